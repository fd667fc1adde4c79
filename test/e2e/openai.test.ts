// OpenAI upstream end to end: the official SDK → gateway → simulator, and what reached the simulator.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { replayChunks } from '../simulators/recorded.js';

const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });

describe('OpenAI upstream', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  beforeEach(() => h.sim.reset());
  after(() => h.close());

  test('non-streaming answer carries the requested model id and usage, and is recorded once', async () => {
    const res = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    assert.equal(res.model, 'gpt-4o-mini');
    assert.equal(res.choices[0].message.content, 'Echo: hello there');
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.ok(res.usage && res.usage.prompt_tokens > 0);
    assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
    const upstream = h.sim.last();
    assert.equal(upstream.path, '/v1/chat/completions');
    assert.equal(upstream.body.model, 'gpt-4o-mini');
    assert.equal(upstream.body.stream, undefined);
    assert.equal(upstream.headers.authorization, 'Bearer sim-test-key-openai');
    const records = await waitForUsage(h, h.keyId, 1);
    const record = records.find((r) => r.prompt_tokens === res.usage!.prompt_tokens && r.model === 'gpt-4o-mini');
    assert.ok(record, 'a usage record with the upstream token counts');
    assert.equal(record.status, 'ok');
    assert.equal(record.provider, 'openai');
  });

  test('a message quoting a special token ("<|endoftext|>") is text like any other', async () => {
    const content = 'What does <|endoftext|> mean in a GPT prompt?';
    const res = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    assert.equal(res.choices[0].message.content, `Echo: ${content}`);
    assert.equal(h.sim.last().body.messages[0].content, content);
  });

  test('streaming relays chunks with one id and the requested model, ending in [DONE]', async () => {
    const stream = await h.client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'stream me' }], stream: true });
    let text = '';
    const ids = new Set<string>();
    const models = new Set<string>();
    let first: any;
    let finish: string | null = null;
    for await (const c of stream) {
      first ??= c;
      ids.add(c.id);
      models.add(c.model);
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      assert.equal((c as any).usage, undefined, 'no usage chunk when the client did not ask');
    }
    assert.equal(text, 'Echo: stream me');
    assert.equal(first.choices[0].delta.role, 'assistant');
    assert.equal(finish, 'stop');
    assert.equal(ids.size, 1);
    assert.deepEqual([...models], ['gpt-4.1']);
    assert.deepEqual(h.sim.last().body.stream_options, { include_usage: true }, 'usage is always requested upstream');
  });

  test('include_usage: the usage chunk comes last with no choices', async () => {
    const stream = await h.client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage && last.usage.completion_tokens > 0);
  });

  test('streamed tool-call arguments arrive in fragments under a stable index', async () => {
    h.sim.enqueue({
      kind: 'sse',
      frames: [
        { data: chunk({ role: 'assistant', content: null }) },
        { data: chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }) },
        { data: chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) },
        { data: chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }) },
        { data: chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }) },
        { data: chunk({}, 'tool_calls') },
        { data: '[DONE]' },
      ],
    });
    const tools = [
      { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function' as const, function: { name: 'time', parameters: { type: 'object', properties: {} } } },
    ];
    const runner = h.client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }], tools });
    const final = await runner.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls!;
    assert.equal(calls.length, 2);
    assert.equal(calls[0].id, 'call_a');
    assert.deepEqual(JSON.parse((calls[0] as any).function.arguments), { city: 'Paris' });
    assert.equal((calls[1] as any).function.name, 'time');
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(h.sim.last().body.tools, tools, 'tools reach OpenAI unchanged');
  });

  test('a tool round trip sends the assistant call and the tool result upstream', async () => {
    const messages = [
      { role: 'user' as const, content: 'weather in Paris?' },
      { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool' as const, tool_call_id: 'call_1', content: 'sunny, 21C' },
    ];
    await h.client.chat.completions.create({ model: 'gpt-4.1-mini', messages });
    const sent = h.sim.last().body.messages;
    assert.equal(sent[1].tool_calls[0].id, 'call_1');
    assert.deepEqual(sent[2], { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21C' });
  });

  test('vision parts pass through to a vision model untouched', async () => {
    const content = [
      { type: 'text' as const, text: 'what is this?' },
      { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png', detail: 'low' as const } },
    ];
    await h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] });
    assert.deepEqual(h.sim.last().body.messages[0].content, content);
  });

  test('o1: system becomes developer; temperature, top_p and stop are dropped; max_tokens becomes max_completion_tokens', async () => {
    await h.client.chat.completions.create({
      model: 'o1',
      messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hi' }],
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END'],
      max_tokens: 500,
      reasoning_effort: 'low',
    });
    const body = h.sim.last().body;
    assert.equal(body.messages[0].role, 'developer');
    assert.equal(body.temperature, undefined);
    assert.equal(body.top_p, undefined);
    assert.equal(body.stop, undefined);
    assert.equal(body.max_tokens, undefined);
    assert.equal(body.max_completion_tokens, 500);
    assert.equal(body.reasoning_effort, 'low');
  });

  test('an error event in the same network read as the content before it: the content arrives, then the error, billed', async () => {
    const error = JSON.stringify({ error: { message: 'The server is overloaded.', type: 'server_error' } });
    h.sim.enqueue({ kind: 'sse', frames: [], raw: `data: ${chunk({ role: 'assistant', content: 'Partial ' })}\n\ndata: ${chunk({ content: 'answer' })}\n\ndata: ${error}\n\n` });
    const { data: stream, response } = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    let text = '';
    await assert.rejects(async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    }, /overloaded/);
    assert.equal(text, 'Partial answer');
    const requestId = response.headers.get('x-request-id');
    let record: any;
    for (const giveUpAt = Date.now() + 5_000; !record && Date.now() < giveUpAt; await new Promise((r) => setTimeout(r, 20))) {
      record = (await waitForUsage(h, h.keyId, 1)).find((r) => r.id === requestId);
    }
    assert.equal(record.status, 'error');
    assert.equal(record.estimated, true, 'no upstream usage: the streamed text is counted');
    assert.ok(record.completion_tokens > 0 && record.cost_nano > 0);
  });

  test('a recorded OpenAI stream replays through the gateway intact', async () => {
    h.sim.enqueue(replayChunks('openai/chat_openai-text.chunks.txt', { done: true }));
    const stream = await h.client.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      usage = c.usage ?? usage;
      assert.equal(c.model, 'gpt-4.1-nano');
    }
    assert.match(text, /Holiday Name/);
    assert.equal(usage?.completion_tokens, 300);
    assert.equal(usage?.prompt_tokens, 16);
  });
});
