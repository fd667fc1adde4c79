// Every catalog model answers through the gateway, whole and streamed, whichever dialect serves it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';

describe('all 30 catalog models', () => {
  let h: Harness;
  let ids: string[] = [];
  before(async () => {
    h = await startHarness({ credit: 1_000 });
    for await (const m of h.client.models.list()) ids.push(m.id);
  });
  after(() => h.close());

  test('the catalog has 30 models', () => assert.equal(ids.length, 30));

  test('each answers a whole request and a stream with the requested model id and usage', async () => {
    for (const model of ids) {
      const whole = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: `ping ${model}` }], max_tokens: 200 });
      assert.equal(whole.model, model);
      assert.match(whole.choices[0].message.content ?? '', new RegExp(`ping ${model.replace(/\./g, '\\.')}`), model);
      assert.ok(whole.usage && whole.usage.total_tokens > 0, model);

      const stream = await h.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `stream ${model}` }],
        max_tokens: 200,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage;
      for await (const chunk of stream) {
        assert.equal(chunk.model, model);
        text += chunk.choices[0]?.delta?.content ?? '';
        usage = chunk.usage ?? usage;
      }
      assert.match(text, new RegExp(`stream ${model.replace(/\./g, '\\.')}`), model);
      assert.ok(usage && usage.completion_tokens > 0, `${model} stream usage`);
    }
  });
});
