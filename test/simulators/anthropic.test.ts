// The default Anthropic reply, checked against the Anthropic adapter's own translators: what the
// simulator says must be something the adapter understands, as real Anthropic traffic is; and it must
// refuse what the real API refuses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from './server.js';
import { messagesRequestProblem } from './anthropic.js';
import { anthropicAdapter } from '../../src/providers/anthropic/index.js';
import { parseSse } from '../support/sse.js';
import type { ChatCompletionChunk, SseEvent } from '../../src/providers/types.js';

let sim: Simulator;
before(async () => {
  sim = await startSimulator();
});
after(async () => {
  await sim.close();
});

const ctx = { requestedModel: 'claude-sonnet-4-6', onDrop: () => {} };
const headers = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };

async function call(body: unknown, extraHeaders: Record<string, string> = headers) {
  return fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: extraHeaders, body: JSON.stringify(body) });
}

async function stream(body: object) {
  const res = await call({ ...body, stream: true });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const events: SseEvent[] = [];
  for await (const e of parseSse(res.body as unknown as AsyncIterable<Buffer>)) events.push(e);
  const t = anthropicAdapter.createStreamTranslator(ctx);
  const chunks: ChatCompletionChunk[] = [...events.flatMap((e) => t.push(e)), ...t.finish()];
  const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
  return {
    events,
    chunks,
    text: deltas.map((d) => d.content ?? '').join(''),
    reasoning: deltas.map((d) => d.reasoning_content ?? '').join(''),
    tools: deltas.flatMap((d) => d.tool_calls ?? []),
    finish: chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason,
    usage: chunks.at(-1)?.usage,
  };
}

const ask = (text: string, extra: object = {}) => ({ model: 'claude-sonnet-4-6', max_tokens: 1000, messages: [{ role: 'user', content: text }], ...extra });
const weatherTool = { name: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } };

describe('anthropic simulator default', () => {
  test('echoes the last user message as a Messages response with usage', async () => {
    const res = await call(ask('hello there'));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.type, 'message');
    assert.deepEqual(body.content, [{ type: 'text', text: 'Echo: hello there' }]);
    assert.equal(body.stop_reason, 'end_turn');
    assert.ok(body.usage.input_tokens > 0 && body.usage.output_tokens > 0);
    const { completion } = anthropicAdapter.parseResponse(body, ctx);
    assert.equal(completion.choices[0].message.content, 'Echo: hello there');
  });

  test('streams the same answer as named SSE events the adapter understands', async () => {
    const { events, text, finish, usage } = await stream(ask('stream me please'));
    assert.equal(events[0].event, 'message_start');
    assert.equal(events.at(-1)!.event, 'message_stop');
    assert.ok(events.some((e) => e.event === 'ping'));
    assert.equal(text, 'Echo: stream me please');
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens === 4);
  });

  test('thinking when thinking is on, counted in output tokens', async () => {
    const body = await (await call(ask('why?', { max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1024 } }))).json();
    assert.equal(body.content[0].type, 'thinking');
    assert.equal(body.content[0].thinking, 'Thinking about: why?');
    assert.ok(body.usage.output_tokens_details.thinking_tokens > 0);
    const streamed = await stream(ask('why?', { max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1024 } }));
    assert.equal(streamed.reasoning, 'Thinking about: why?');
    assert.equal(streamed.text, 'Echo: why?');
  });

  test('a tool_use when tool_choice forces one, with input from the schema', async () => {
    const body = await (await call(ask('Paris', { tools: [weatherTool], tool_choice: { type: 'tool', name: 'weather' } }))).json();
    assert.equal(body.stop_reason, 'tool_use');
    assert.equal(body.content[0].type, 'tool_use');
    assert.deepEqual(body.content[0].input, { city: 'Paris', days: 42 });
    const streamed = await stream(ask('Paris', { tools: [weatherTool], tool_choice: { type: 'any' } }));
    assert.equal(streamed.finish, 'tool_calls');
    assert.equal(streamed.tools[0].function?.name, 'weather');
    assert.deepEqual(JSON.parse(streamed.tools.map((t) => t.function?.arguments ?? '').join('')), { city: 'Paris', days: 42 });
  });

  test('tools without a forced choice: a plain answer', async () => {
    const body = await (await call(ask('hi', { tools: [weatherTool] }))).json();
    assert.equal(body.content[0].type, 'text');
  });

  test('max_tokens cuts the answer (one token per word); stop sequences stop it', async () => {
    const cut = await (await call(ask('one two three four five', { max_tokens: 3 }))).json();
    assert.equal(cut.stop_reason, 'max_tokens');
    assert.equal(cut.content[0].text, 'Echo: one two ');
    const stopped = await (await call(ask('alpha END beta', { stop_sequences: ['END'] }))).json();
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, 'END');
    assert.equal(stopped.content[0].text, 'Echo: alpha ');
  });

  test('tool results and images are echoed so tests can see what arrived', async () => {
    const body = await (await call({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }, { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }] },
      ],
    })).json();
    assert.equal(body.content[0].text, 'Echo: toolu_1 returned sunny [image https://x.test/a.png]');
  });

  test('refuses without x-api-key (401) or anthropic-version (400), in Anthropic’s error shape', async () => {
    const noKey = await call(ask('x'), { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).error.type, 'authentication_error');
    const noVersion = await call(ask('x'), { 'content-type': 'application/json', 'x-api-key': 'k' });
    assert.equal(noVersion.status, 400);
    assert.equal((await noVersion.json()).type, 'error');
  });
});

describe('messagesRequestProblem refuses what Anthropic refuses', () => {
  const ok = ask('hi');
  test('a valid request passes', () => assert.equal(messagesRequestProblem(ok), undefined));
  test('missing max_tokens', () => assert.match(messagesRequestProblem({ ...ok, max_tokens: undefined })!, /max_tokens/));
  test('a system role inside messages', () => assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'system', content: 'x' }] })!, /role/));
  test('empty and whitespace-only text blocks', () => {
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: [{ type: 'text', text: ' ' }] }] })!, /non-whitespace/);
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }, { role: 'assistant', content: [{ type: 'text', text: '' }, { type: 'tool_use', id: 't', name: 'f', input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't' }] }] })!, /non-whitespace/);
  });
  test('a tool_use without its tool_result, and an orphan tool_result', () => {
    const use = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] };
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: 'a' }, use, { role: 'user', content: 'b' }] })!, /without `tool_result`/);
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9' }] }] })!, /unexpected `tool_use_id`/);
  });
  test('tool_result after text in a user turn', () => {
    const use = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }] };
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: 'a' }, use, { role: 'user', content: [{ type: 'text', text: 'b' }, { type: 'tool_result', tool_use_id: 'toolu_1' }] }] })!, /must come first/);
  });
  test('temperature above 1, and with top_p on 4.5+ models', () => {
    assert.match(messagesRequestProblem({ ...ok, temperature: 1.5 })!, /temperature/);
    assert.match(messagesRequestProblem({ ...ok, temperature: 0.5, top_p: 0.9 })!, /cannot both be specified/);
    assert.equal(messagesRequestProblem({ ...ok, model: 'claude-3-5-sonnet-20241022', temperature: 0.5, top_p: 0.9 }), undefined);
  });
  test('thinking rules: budget ≥ 1024 and < max_tokens, no temperature, no forced tool', () => {
    assert.match(messagesRequestProblem({ ...ok, thinking: { type: 'enabled', budget_tokens: 500 } })!, /1024/);
    assert.match(messagesRequestProblem({ ...ok, max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 } })!, /greater than `thinking.budget_tokens`/);
    assert.match(messagesRequestProblem({ ...ok, temperature: 0.2, thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2000 })!, /temperature/);
    assert.match(messagesRequestProblem({ ...ok, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [weatherTool], tool_choice: { type: 'any' } })!, /forces tool use/);
  });
  test('whitespace stop sequences, tool_choice without tools, trailing whitespace in a prefill', () => {
    assert.match(messagesRequestProblem({ ...ok, stop_sequences: ['\n'] })!, /non-whitespace/);
    assert.match(messagesRequestProblem({ ...ok, tool_choice: { type: 'auto' } })!, /tool_choice/);
    assert.match(messagesRequestProblem({ ...ok, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b ' }] })!, /trailing whitespace/);
  });
});
