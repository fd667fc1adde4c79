import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadChunks } from '../../../test/fixtures/load.js';
import { chunkSequenceProblems, foldChunks } from '../../../test/support/chunks.js';
import { ProviderError, type ChatCompletionChunk, type SseEvent } from '../types.js';
import { createResponsesStreamTranslator } from './parse-stream.js';

function run(events: SseEvent[]) {
  const drops: string[] = [];
  const translator = createResponsesStreamTranslator({ requestedModel: 'o1-pro', onDrop: (what) => drops.push(what) });
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) chunks.push(...translator.push(event));
  chunks.push(...translator.finish());
  return { chunks, drops, folded: foldChunks(chunks), billable: translator.billableUsage() };
}

const ev = (type: string, payload: Record<string, unknown> = {}): SseEvent => ({ event: type, data: JSON.stringify({ type, ...payload }) });
const usage = { input_tokens: 20, input_tokens_details: { cached_tokens: 4 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 3 } };
const created = ev('response.created', { response: { id: 'resp_s1', created_at: 1770000000, status: 'in_progress', output: [], tools: [] } });
const completed = (extra: Record<string, unknown> = {}) =>
  ev('response.completed', { response: { id: 'resp_s1', status: 'completed', output: [], usage, ...extra } });
const call = (outputIndex: number, id: string, callId: string, name: string) =>
  ev('response.output_item.added', { output_index: outputIndex, item: { type: 'function_call', id, call_id: callId, name, arguments: '' } });

describe('Responses stream → chat chunks', () => {
  test('text: role first, content deltas, one finish chunk, usage chunk last', () => {
    const { chunks, folded } = run([
      created,
      ev('response.output_item.added', { output_index: 0, item: { type: 'message', id: 'msg_1', role: 'assistant', content: [] } }),
      ev('response.output_text.delta', { output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'Hello' }),
      ev('response.output_text.delta', { output_index: 0, content_index: 0, item_id: 'msg_1', delta: ', world' }),
      ev('response.output_text.done', { output_index: 0, content_index: 0, item_id: 'msg_1', text: 'Hello, world' }),
      completed(),
    ]);
    assert.deepEqual(chunkSequenceProblems(chunks), []);
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(folded.content, 'Hello, world');
    assert.equal(folded.finishReason, 'stop');
    assert.deepEqual([...folded.ids], ['chatcmpl-s1']);
    assert.deepEqual([...folded.models], ['o1-pro']);
    assert.deepEqual(folded.usage, {
      prompt_tokens: 20,
      completion_tokens: 9,
      total_tokens: 29,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    assert.equal(chunks.every((c) => c.created === 1770000000), true);
  });

  test('text that only arrives in output_text.done (no deltas) is still delivered', () => {
    const { folded } = run([
      created,
      ev('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'Got' }),
      ev('response.output_text.done', { output_index: 0, content_index: 0, text: 'Got it.' }),
      ev('response.output_text.done', { output_index: 1, content_index: 0, text: ' Second message.' }),
      completed(),
    ]);
    assert.equal(folded.content, 'Got it. Second message.');
  });

  test('reasoning summary deltas become reasoning_content (xAI recording)', () => {
    const { folded } = run(loadChunks('xai/responses_xai-text-with-reasoning-streaming.1.chunks.txt'));
    assert.match(folded.reasoning, /^First, the question is/);
    assert.match(folded.content, /^### Overview of Sonoran Cuisine/);
    assert.equal(folded.usage!.completion_tokens_details!.reasoning_tokens, 323);
  });

  test('summary parts are separated by a blank line', () => {
    const { folded } = run([
      created,
      ev('response.reasoning_summary_text.delta', { output_index: 0, summary_index: 0, delta: 'First' }),
      ev('response.reasoning_summary_text.delta', { output_index: 0, summary_index: 0, delta: '.' }),
      ev('response.reasoning_summary_text.delta', { output_index: 0, summary_index: 1, delta: 'Second.' }),
      completed(),
    ]);
    assert.equal(folded.reasoning, 'First.\n\nSecond.');
  });

  test('a function call opens with index, call_id, type and name, then streams its arguments', () => {
    const { chunks, folded } = run(loadChunks('openai/responses_openai-reasoning-encrypted-content.1.chunks.txt'));
    const opening = chunks.find((c) => c.choices[0]?.delta.tool_calls)!.choices[0]!.delta.tool_calls![0];
    assert.deepEqual(opening, { index: 0, id: 'call_AB6AaRZ1FYZB2RwS6A5vbdqn', type: 'function', function: { name: 'calculator', arguments: '' } });
    assert.deepEqual(folded.toolCalls, [
      { id: 'call_AB6AaRZ1FYZB2RwS6A5vbdqn', type: 'function', function: { name: 'calculator', arguments: '{"a":12,"b":7,"op":"add"}' } },
    ]);
    assert.equal(folded.finishReason, 'tool_calls');
  });

  test('tool-call indices count calls 0, 1… whatever their output_index', () => {
    const { folded, chunks } = run([
      created,
      ev('response.output_item.added', { output_index: 0, item: { type: 'reasoning', id: 'rs_1', summary: [] } }),
      call(1, 'fc_a', 'call_a', 'weather'),
      ev('response.function_call_arguments.delta', { output_index: 1, item_id: 'fc_a', delta: '{"city":' }),
      ev('response.function_call_arguments.delta', { output_index: 1, item_id: 'fc_a', delta: '"Paris"}' }),
      ev('response.output_item.added', { output_index: 2, item: { type: 'web_search_call', id: 'ws_1' } }),
      call(3, 'fc_b', 'call_b', 'weather'),
      ev('response.function_call_arguments.done', { output_index: 3, item_id: 'fc_b', arguments: '{"city":"Rome"}' }),
      completed(),
    ]);
    const indices = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.index);
    assert.deepEqual([...new Set(indices)], [0, 1]);
    assert.deepEqual(
      folded.toolCalls.map((c) => [c.id, c.function.arguments]),
      [
        ['call_a', '{"city":"Paris"}'],
        ['call_b', '{"city":"Rome"}'],
      ],
    );
  });

  test('a call whose stream carried no arguments at all gets "{}"', () => {
    const { folded } = run([
      created,
      call(0, 'fc_a', 'call_a', 'now'),
      ev('response.output_item.done', { output_index: 0, item: { type: 'function_call', id: 'fc_a', call_id: 'call_a', name: 'now', arguments: '' } }),
      completed(),
    ]);
    assert.equal(folded.toolCalls[0]!.function.arguments, '{}');
  });

  test('item ids that change on every event (a rotating proxy) do not break the stream', () => {
    const { folded, drops } = run(loadChunks('openai/responses_github-copilot-id-rotation.1.chunks.txt'));
    assert.match(folded.content, /^There are \*\*3\*\* letter/);
    assert.equal(folded.reasoning, '**Counting character occurrences**');
    assert.deepEqual(drops, []);
  });

  test('the undeclared `parallel` wrapper streams as separate calls, even when the terminal event is unreadable', () => {
    const { folded, drops } = run(loadChunks('openai/responses_parallel-tool-call-wrapper.1.chunks.txt'));
    assert.deepEqual(folded.toolCalls, [
      { id: 'call_parallel_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } },
      { id: 'call_parallel_1', type: 'function', function: { name: 'cityAttractions', arguments: '{"city":"Rome"}' } },
    ]);
    assert.equal(folded.finishReason, 'tool_calls');
    assert.ok(drops.includes('unparseable event'));
    assert.ok(drops.includes('terminal event'));
  });

  test('response.incomplete at max_output_tokens → length, with usage', () => {
    const { folded, billable } = run([
      created,
      ev('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'The answer is' }),
      ev('response.incomplete', {
        response: { id: 'resp_s1', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [], usage },
      }),
    ]);
    assert.equal(folded.finishReason, 'length');
    assert.equal(folded.content, 'The answer is');
    assert.deepEqual(billable, { inputTokens: 16, cachedInputTokens: 4, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 9, reasoningTokens: 3, promptTokens: 20 });
  });

  test('refusal deltas reach the client as delta.refusal and finish with content_filter', () => {
    const { folded } = run([created, ev('response.refusal.delta', { output_index: 0, content_index: 0, delta: "I can't help." }), completed()]);
    assert.equal(folded.refusal, "I can't help.");
    assert.equal(folded.finishReason, 'content_filter');
  });

  test('an `error` event throws a ProviderError (recorded insufficient_quota → 502)', () => {
    const translator = createResponsesStreamTranslator({ requestedModel: 'o1-pro', onDrop: () => {} });
    const events = loadChunks('openai/responses_openai-error.1.chunks.txt');
    translator.push(events[0]!);
    translator.push(events[1]!);
    assert.throws(() => translator.push(events[2]!), (e: unknown) => e instanceof ProviderError && e.status === 502 && !e.retryable);
    assert.deepEqual(translator.finish(), [], 'nothing is owed after an error');
  });

  test('response.failed throws with the upstream code', () => {
    const translator = createResponsesStreamTranslator({ requestedModel: 'o1-pro', onDrop: () => {} });
    translator.push(created);
    const failed = ev('response.failed', { response: { id: 'resp_s1', status: 'failed', error: { code: 'server_error', message: 'boom' } } });
    assert.throws(() => translator.push(failed), (e: unknown) => e instanceof ProviderError && e.status === 502 && e.retryable);
  });

  test('server-side tool events are reported once per kind and produce no chunks', () => {
    const { chunks, drops } = run([
      created,
      ev('response.output_item.added', { output_index: 0, item: { type: 'code_interpreter_call', id: 'ci_1' } }),
      ev('response.code_interpreter_call_code.delta', { output_index: 0, delta: 'print(1)' }),
      ev('response.code_interpreter_call_code.delta', { output_index: 0, delta: 'print(2)' }),
      completed(),
    ]);
    assert.deepEqual(drops, ['output item code_interpreter_call', 'event response.code_interpreter_call_code.delta']);
    assert.equal(chunks.length, 3, 'role, finish, usage');
  });

  test('events after the terminal one are ignored', () => {
    const { folded, drops } = run([created, ev('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'A' }), completed(), created, ev('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'B' })]);
    assert.equal(folded.content, 'A');
    assert.ok(drops.includes('event after the response ended'));
  });

  test('a stream cut before response.completed still ends with a finish chunk and no usage', () => {
    const { chunks, folded, billable } = run([created, ev('response.output_text.delta', { output_index: 0, content_index: 0, delta: 'Partial' })]);
    assert.deepEqual(chunkSequenceProblems(chunks), []);
    assert.equal(folded.finishReason, 'stop');
    assert.equal(folded.usage, undefined);
    assert.equal(billable, undefined);
  });
});
