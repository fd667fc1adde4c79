// DeepSeek and xAI: OpenAI-compatible upstreams with their own model ids, parameters and usage quirks.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';
import { replayChunks, replayJson } from '../simulators/recorded.js';

describe('DeepSeek and xAI upstreams', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  beforeEach(() => h.sim.reset());
  after(() => h.close());

  test('deepseek-r1 is sent as deepseek-reasoner with its key, and reasoning_content comes back', async () => {
    const res = await h.client.chat.completions.create({ model: 'deepseek-r1', messages: [{ role: 'user', content: 'why?' }], temperature: 0.5, max_completion_tokens: 100 });
    assert.equal(res.model, 'deepseek-r1');
    assert.equal((res.choices[0].message as any).reasoning_content, 'Thinking about: why?');
    const upstream = h.sim.last();
    assert.equal(upstream.body.model, 'deepseek-reasoner');
    assert.equal(upstream.headers.authorization, 'Bearer sim-test-key-deepseek');
    assert.equal(upstream.body.temperature, undefined, 'the reasoner ignores temperature: not sent');
    assert.equal(upstream.body.max_tokens, 100, 'DeepSeek takes max_tokens');
    assert.equal(upstream.body.max_completion_tokens, undefined);
  });

  test('deepseek-v3 is sent as deepseek-chat; history reasoning is stripped for the reasoner', async () => {
    await h.client.chat.completions.create({ model: 'deepseek-v3', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(h.sim.last().body.model, 'deepseek-chat');
    await h.client.chat.completions.create({
      model: 'deepseek-r1-0528',
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b', reasoning_content: 'long thoughts' } as any,
        { role: 'user', content: 'c' },
      ],
    });
    const sent = h.sim.last().body;
    assert.equal(sent.model, 'deepseek-reasoner');
    assert.equal('reasoning_content' in sent.messages[1], false);
  });

  test('a recorded DeepSeek reasoning stream: reasoning deltas, then answer, usage split off the finish chunk', async () => {
    h.sim.enqueue(replayChunks('deepseek/chat_deepseek-reasoning.chunks.txt', { done: true }));
    const stream = await h.client.chat.completions.create({ model: 'deepseek-r1', messages: [{ role: 'user', content: 'r?' }], stream: true, stream_options: { include_usage: true } });
    let reasoning = '';
    let content = '';
    let finish: string | null = null;
    let usage: any;
    let usageChunkChoices: unknown;
    for await (const c of stream) {
      reasoning += (c.choices[0]?.delta as any)?.reasoning_content ?? '';
      content += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) {
        usage = c.usage;
        usageChunkChoices = c.choices;
      }
    }
    assert.ok(reasoning.length > 50);
    assert.ok(content.length > 0);
    assert.equal(finish, 'stop');
    assert.deepEqual(usageChunkChoices, []);
    assert.ok(usage.completion_tokens_details.reasoning_tokens > 0);
  });

  test('grok-3-mini: reasoning effort mapped to what xAI accepts, penalties dropped, usage in OpenAI semantics', async () => {
    h.sim.enqueue(replayJson('openai-compatible/chat_xai-tool-call.json'));
    const res = await h.client.chat.completions.create({
      model: 'grok-3-mini',
      messages: [{ role: 'user', content: 'weather in SF?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }],
      reasoning_effort: 'medium',
      presence_penalty: 0,
      frequency_penalty: 0.1,
    });
    const body = h.sim.last().body;
    assert.equal(body.model, 'grok-3-mini');
    assert.equal(body.reasoning_effort, 'high');
    assert.equal(body.presence_penalty, undefined);
    assert.equal(body.frequency_penalty, undefined);
    assert.equal(h.sim.last().headers.authorization, 'Bearer sim-test-key-xai');
    const message = res.choices[0].message;
    assert.equal(message.content, null);
    assert.equal(message.tool_calls![0].id, 'call_46427107');
    assert.equal(res.choices[0].finish_reason, 'tool_calls');
    // xAI: 307 prompt + 26 completion + 255 reasoning; OpenAI semantics put reasoning inside completion.
    assert.equal(res.usage!.completion_tokens, 281);
    assert.equal(res.usage!.total_tokens, 588);
  });

  test('grok-4 is sent as grok-4-0709 without reasoning_effort (xAI rejects it there)', async () => {
    await h.client.chat.completions.create({ model: 'grok-4', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high' });
    const body = h.sim.last().body;
    assert.equal(body.model, 'grok-4-0709');
    assert.equal(body.reasoning_effort, undefined);
  });

  test('a recorded xAI stream: reasoning first, then text', async () => {
    h.sim.enqueue(replayChunks('xai/xai-text.chunks.txt', { done: true }));
    const stream = await h.client.chat.completions.create({ model: 'grok-3-mini', messages: [{ role: 'user', content: 'x' }], stream: true });
    let reasoning = '';
    let content = '';
    for await (const c of stream) {
      reasoning += (c.choices[0]?.delta as any)?.reasoning_content ?? '';
      content += c.choices[0]?.delta?.content ?? '';
    }
    assert.ok(reasoning.length > 0);
    assert.ok(content.length > 0);
  });

  test('images on a text-only model are refused before any upstream call', async () => {
    await assert.rejects(
      h.client.chat.completions.create({
        model: 'deepseek-v3',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      }),
      (err: any) => err.status === 400 && err.code === 'image_not_supported',
    );
    assert.equal(h.sim.requests.length, 0);
  });
});
