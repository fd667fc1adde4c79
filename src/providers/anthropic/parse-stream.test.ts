import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ProviderError, type ChatCompletionChunk, type SseEvent } from '../types.js';
import { loadChunks, loadJson, recordedDir, recordedFiles } from '../../../test/fixtures/load.js';
import { createAnthropicStreamTranslator } from './parse-stream.js';
import { parseAnthropicResponse } from './parse-response.js';

function translate(events: SseEvent[]) {
  const drops: string[] = [];
  const t = createAnthropicStreamTranslator({ requestedModel: 'claude-sonnet', onDrop: (what) => drops.push(what) });
  const chunks = events.flatMap((e) => t.push(e));
  chunks.push(...t.finish());
  return { chunks, drops, billable: t.billableUsage(), ...collect(chunks) };
}

/** What a client assembles from the chunks. */
function collect(chunks: ChatCompletionChunk[]) {
  let content = '';
  let reasoning = '';
  const tools: Array<{ id: string; name: string; arguments: string }> = [];
  const finishes: string[] = [];
  for (const c of chunks) {
    for (const choice of c.choices) {
      content += choice.delta.content ?? '';
      reasoning += choice.delta.reasoning_content ?? '';
      if (choice.finish_reason) finishes.push(choice.finish_reason);
      for (const call of choice.delta.tool_calls ?? []) {
        tools[call.index] ??= { id: '', name: '', arguments: '' };
        if (call.id) tools[call.index].id = call.id;
        if (call.function?.name) tools[call.index].name = call.function.name;
        tools[call.index].arguments += call.function?.arguments ?? '';
      }
    }
  }
  const usageChunks = chunks.filter((c) => c.usage);
  return { content, reasoning, tools, finishes, usage: usageChunks.at(-1)?.usage ?? undefined, usageChunks };
}

const ev = (payload: object): SseEvent => ({ event: (payload as { type: string }).type, data: JSON.stringify(payload) });
const start = (usage: object = { input_tokens: 10, output_tokens: 1 }) => ev({ type: 'message_start', message: { id: 'msg_s', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage } });
const end = (stop_reason: string, usage: object = { output_tokens: 5 }) => [ev({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage }), ev({ type: 'message_stop' })];
const blockStart = (index: number, content_block: object) => ev({ type: 'content_block_start', index, content_block });
const delta = (index: number, d: object) => ev({ type: 'content_block_delta', index, delta: d });
const blockStop = (index: number) => ev({ type: 'content_block_stop', index });

describe('createAnthropicStreamTranslator', () => {
  test('a text stream: role first, content deltas, one finish chunk, then one usage chunk', () => {
    const { chunks, content, finishes, usage, usageChunks, drops } = translate(loadChunks('anthropic/anthropic-text.chunks.txt'));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(content, "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?");
    assert.deepEqual(finishes, ['stop']);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)!;
    assert.deepEqual(finish.choices[0].delta, {});
    assert.equal(usageChunks.length, 1);
    assert.equal(chunks.at(-1), usageChunks[0], 'the usage chunk comes last');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.deepEqual(usage, { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 0 } });
    assert.ok(chunks.every((c) => c.id === 'chatcmpl-01QC4g3HwBThD4BaNtBckFDJ' && c.model === 'claude-sonnet' && c.object === 'chat.completion.chunk'));
    assert.deepEqual(drops, [], 'ping is silently ignored');
  });

  test('a tool call: first delta carries id, type, name and ""; later ones only arguments', () => {
    const { chunks, tools, finishes, content } = translate(loadChunks('anthropic/anthropic-json-other-tool.1.chunks.txt'));
    const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    assert.deepEqual(toolDeltas[0], { index: 0, id: 'toolu_019Zvehfe1XQWweT1pm7okyt', type: 'function', function: { name: 'weather', arguments: '' } });
    for (const later of toolDeltas.slice(1)) assert.deepEqual(Object.keys(later).sort(), ['function', 'index']);
    assert.ok(toolDeltas.slice(1).every((d) => d.function?.arguments !== ''), 'the empty first input_json_delta is not relayed');
    assert.deepEqual(JSON.parse(tools[0].arguments), { location: 'San Francisco' });
    assert.deepEqual(finishes, ['tool_calls']);
    assert.equal(content, '');
  });

  test('tool-call index counts tool_use blocks only, not text or thinking blocks', () => {
    const { tools, reasoning, content } = translate([
      start(),
      blockStart(0, { type: 'thinking', thinking: '', signature: '' }),
      delta(0, { type: 'thinking_delta', thinking: 'Two lookups.' }),
      delta(0, { type: 'signature_delta', signature: 'EqQBCgIYAh' }),
      blockStop(0),
      blockStart(1, { type: 'text', text: '' }),
      delta(1, { type: 'text_delta', text: 'Checking both.' }),
      blockStop(1),
      blockStart(2, { type: 'tool_use', id: 'toolu_a', name: 'weather', input: {} }),
      delta(2, { type: 'input_json_delta', partial_json: '{"city":"Paris"}' }),
      blockStop(2),
      blockStart(3, { type: 'tool_use', id: 'toolu_b', name: 'weather', input: {} }),
      delta(3, { type: 'input_json_delta', partial_json: '{"city":' }),
      delta(3, { type: 'input_json_delta', partial_json: '"Rome"}' }),
      blockStop(3),
      ...end('tool_use'),
    ]);
    assert.equal(reasoning, 'Two lookups.');
    assert.equal(content, 'Checking both.');
    assert.deepEqual(tools, [
      { id: 'toolu_a', name: 'weather', arguments: '{"city":"Paris"}' },
      { id: 'toolu_b', name: 'weather', arguments: '{"city":"Rome"}' },
    ]);
  });

  test('a tool without arguments ends with arguments "{}"', () => {
    const { tools } = translate([start(), blockStart(0, { type: 'tool_use', id: 'toolu_n', name: 'now', input: {} }), delta(0, { type: 'input_json_delta', partial_json: '' }), blockStop(0), ...end('tool_use')]);
    assert.equal(tools[0].arguments, '{}');
  });

  test('a tool whose input arrives whole in content_block_start keeps it', () => {
    const { tools } = translate([start(), blockStart(0, { type: 'tool_use', id: 'toolu_p', name: 'rollDie', input: { player: 'player1' } }), blockStop(0), ...end('tool_use')]);
    assert.deepEqual(JSON.parse(tools[0].arguments), { player: 'player1' });
  });

  test('thinking streams as reasoning_content', () => {
    const events = loadChunks('anthropic/anthropic-combined-context-editing.1.chunks.txt');
    const { reasoning, content } = translate(events);
    const expected = events.map((e) => JSON.parse(e.data)).filter((p) => p.delta?.type === 'thinking_delta').map((p) => p.delta.thinking).join('');
    assert.ok(reasoning.length > 0);
    assert.equal(reasoning, expected);
    assert.ok(!content.includes(reasoning.slice(0, 30)), 'thinking does not leak into content');
  });

  test('usage: message_delta values win over message_start (43 → 61 input tokens)', () => {
    const { usage, billable } = translate(loadChunks('anthropic/anthropic-message-delta-input-tokens.chunks.txt'));
    assert.equal(usage?.prompt_tokens, 61);
    assert.equal(usage?.completion_tokens, 2);
    assert.equal(billable?.inputTokens, 61);
  });

  test('usage: cache reads and the 5m/1h write split from message_start reach billing', () => {
    const { usage, billable } = translate([
      start({ input_tokens: 20, cache_read_input_tokens: 3000, cache_creation_input_tokens: 700, cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 200 }, output_tokens: 1 }),
      blockStart(0, { type: 'text', text: '' }),
      delta(0, { type: 'text_delta', text: 'Hi' }),
      blockStop(0),
      ...end('end_turn', { output_tokens: 9 }),
    ]);
    assert.equal(usage?.prompt_tokens, 3720);
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, 3000);
    assert.deepEqual(billable, { inputTokens: 20, cachedInputTokens: 3000, cacheWrite5mTokens: 500, cacheWrite1hTokens: 200, outputTokens: 9, reasoningTokens: 0, promptTokens: 3720 });
  });

  test('a repeated message_start is idempotent: one role chunk', () => {
    const { chunks, content, drops } = translate(loadChunks('anthropic/duplicate-message-start.chunks.txt'));
    assert.equal(chunks.filter((c) => c.choices[0]?.delta.role).length, 1);
    assert.equal(content, 'Hello, World!');
    assert.deepEqual(drops, ['repeated message_start']);
  });

  test('an error event mid-stream throws a ProviderError (overloaded → 503)', () => {
    const t = createAnthropicStreamTranslator({ requestedModel: 'm', onDrop() {} });
    t.push(start());
    t.push(blockStart(0, { type: 'text', text: '' }));
    assert.equal(t.push(delta(0, { type: 'text_delta', text: 'Par' })).length, 1);
    assert.throws(
      () => t.push(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })),
      (err: unknown) => err instanceof ProviderError && err.status === 503 && err.error.message === 'Overloaded',
    );
  });

  test('a stream cut before message_delta does not end as a complete answer', () => {
    const t = createAnthropicStreamTranslator({ requestedModel: 'm', onDrop() {} });
    t.push(start());
    t.push(blockStart(0, { type: 'text', text: '' }));
    t.push(delta(0, { type: 'text_delta', text: 'Half an ans' }));
    assert.throws(() => t.finish(), (err: unknown) => err instanceof ProviderError && err.status === 502);
    assert.equal(t.billableUsage()?.inputTokens, 10, 'what was reported is still billable');
  });

  test('a stream that ends after message_delta without message_stop still gets its usage chunk', () => {
    const t = createAnthropicStreamTranslator({ requestedModel: 'm', onDrop() {} });
    const chunks = [start(), blockStart(0, { type: 'text', text: '' }), delta(0, { type: 'text_delta', text: 'ok' }), blockStop(0), end('end_turn')[0]].flatMap((e) => t.push(e));
    const rest = t.finish();
    assert.equal(collect(chunks).finishes.length, 1);
    assert.equal(rest.length, 1);
    assert.deepEqual(rest[0].choices, []);
    assert.equal(rest[0].usage?.completion_tokens, 5);
  });

  test('unknown events, unparseable data and events after message_stop are dropped and reported', () => {
    const { content, drops, finishes } = translate([
      start(),
      ev({ type: 'brand_new_event' }),
      { data: 'not json' },
      blockStart(0, { type: 'text', text: '' }),
      delta(0, { type: 'text_delta', text: 'A' }),
      delta(0, { type: 'citations_delta', citation: {} }),
      blockStop(0),
      ...end('end_turn'),
      start(),
      blockStart(0, { type: 'text', text: '' }),
      delta(0, { type: 'text_delta', text: 'B' }),
    ]);
    assert.equal(content, 'A');
    assert.deepEqual(finishes, ['stop']);
    assert.deepEqual(drops, ['event brand_new_event', 'unparseable event', 'content delta citations_delta', 'event after message_stop']);
  });

  test('every recorded stream translates: role first, one finish chunk, usage last', () => {
    const files = recordedFiles('anthropic', (n) => n.endsWith('.chunks.txt'));
    assert.ok(files.length > 20);
    for (const file of files) {
      const { chunks, finishes, usageChunks, tools } = translate(loadChunks(file));
      assert.deepEqual(chunks[0].choices[0].delta.role, 'assistant', file);
      assert.equal(finishes.length, 1, file);
      assert.equal(usageChunks.length, 1, file);
      assert.equal(chunks.at(-1), usageChunks[0], file);
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1, file);
      for (const call of tools) {
        assert.ok(call.id && call.name, file);
        assert.equal(typeof JSON.parse(call.arguments), 'object', file);
      }
    }
  });
});

describe('streaming and non-streaming translations agree', () => {
  // Each stream recording with a .json beside it. Only anthropic-advisor-stop-reasons is the same call
  // recorded both ways (same message id); the others are separate calls with the same prompt, so their
  // words differ and only the structure is compared: finish reason, tool names in order, whether there
  // is text and reasoning. Where two recordings happen to carry the same words or tool input, those are
  // compared exactly too.
  const SAME_CONTENT = new Set(['anthropic-advisor-stop-reasons', 'anthropic-fallback', 'anthropic-json-other-tool.1']);
  // The stream recording stops at the first turn (a programmatic tool_use, stop_reason tool_use); the
  // JSON recording is the final turn after all four calls ran. Different turns, not comparable.
  const DIFFERENT_TURNS = new Set(['anthropic-programmatic-tool-calling.1']);

  const pairs = recordedFiles('anthropic', (n) => n.endsWith('.chunks.txt'))
    .map((stream) => ({ stream, json: stream.replace(/\.chunks\.txt$/, '.json'), name: stream.replace(/^anthropic\//, '').replace(/\.chunks\.txt$/, '') }))
    .filter((p) => existsSync(join(recordedDir, p.json)));

  test('there are pairs to compare', () => assert.ok(pairs.length >= 15));

  for (const pair of pairs) {
    if (DIFFERENT_TURNS.has(pair.name)) continue;
    test(pair.name, () => {
      const streamed = translate(loadChunks(pair.stream));
      const whole = parseAnthropicResponse(loadJson(pair.json), { requestedModel: 'claude-sonnet', onDrop() {} }).completion.choices[0];
      assert.deepEqual(streamed.finishes, [whole.finish_reason]);
      assert.deepEqual(streamed.tools.map((t) => t.name), (whole.message.tool_calls ?? []).map((t) => t.function.name));
      assert.equal(streamed.content !== '', !!whole.message.content);
      assert.equal(streamed.reasoning !== '', !!whole.message.reasoning_content);
      if (SAME_CONTENT.has(pair.name)) {
        assert.equal(streamed.content, whole.message.content ?? '');
        assert.deepEqual(
          streamed.tools.map((t) => JSON.parse(t.arguments)),
          (whole.message.tool_calls ?? []).map((t) => JSON.parse(t.function.arguments)),
        );
      }
    });
  }
});
