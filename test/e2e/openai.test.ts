// OpenAI upstream end to end: the official SDK against the gateway against the simulator.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';

describe('OpenAI upstream', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('non-streaming answer carries the requested model id and usage', async () => {
    const res = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    assert.equal(res.model, 'gpt-4o-mini');
    assert.equal(res.choices[0].message.content, 'Echo: hello there');
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.ok(res.usage && res.usage.prompt_tokens > 0 && res.usage.total_tokens === res.usage.prompt_tokens + res.usage.completion_tokens);
    const upstream = h.sim.last();
    assert.equal(upstream.path, '/v1/chat/completions');
    assert.equal(upstream.body.model, 'gpt-4o-mini');
    assert.equal(upstream.headers.authorization, 'Bearer sim-test-key-openai');
    const usage = await waitForUsage(h, h.keyId, 1);
    assert.equal(usage.at(-1).status, 'ok');
  });

  test('streaming relays chunks', async () => {
    const stream = await h.client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'stream me' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Echo: stream me');
    assert.deepEqual(h.sim.last().body.stream_options, { include_usage: true });
  });
});
