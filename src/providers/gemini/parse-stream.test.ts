import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadChunks, loadJson, recordedFiles } from '../../../test/fixtures/load.js';
import { ProviderError, type ChatCompletionChunk, type SseEvent, type ToolCall } from '../types.js';
import { parseGeminiResponse } from './parse-response.js';
import { applyPartialArg, createGeminiStreamTranslator } from './parse-stream.js';

function translate(events: SseEvent[]) {
  const dropped: Array<[string, unknown]> = [];
  const t = createGeminiStreamTranslator({ requestedModel: 'gemini-1.5-pro', onDrop: (w, d) => void dropped.push([w, d]) });
  const chunks: ChatCompletionChunk[] = [];
  for (const e of events) chunks.push(...t.push(e));
  chunks.push(...t.finish());
  return { chunks, dropped, billable: t.billableUsage() };
}

const events = (...payloads: unknown[]): SseEvent[] => payloads.map((p) => ({ data: JSON.stringify(p) }));

/** What a client assembles from a stream, the way the openai SDK does. */
function collect(chunks: ChatCompletionChunk[], choice = 0) {
  let content = '';
  let reasoning = '';
  const calls: ToolCall[] = [];
  let finish: string | null = null;
  for (const c of chunks) {
    for (const ch of c.choices.filter((x) => x.index === choice)) {
      content += ch.delta.content ?? '';
      reasoning += ch.delta.reasoning_content ?? '';
      for (const tc of ch.delta.tool_calls ?? []) {
        if (tc.id) calls[tc.index] = { id: tc.id, type: 'function', function: { name: tc.function!.name!, arguments: '' } };
        calls[tc.index].function.arguments += tc.function?.arguments ?? '';
      }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { content, reasoning, calls, finish };
}

const text = (t: string, extra: object = {}) => ({ content: { role: 'model', parts: [{ text: t }] }, index: 0, ...extra });

describe('Gemini stream translator: recorded traffic', () => {
  for (const file of recordedFiles('google', (n) => n.endsWith('.chunks.txt'))) {
    test(`${file} translates without throwing into a well-formed stream`, () => {
      const { chunks } = translate(loadChunks(file));
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');
      const ids = new Set(chunks.map((c) => c.id));
      assert.equal(ids.size, 1, 'one id for every chunk');
      assert.ok(chunks.every((c) => c.model === 'gemini-1.5-pro'));
      const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
      assert.equal(finishes.length, 1, 'exactly one finish chunk');
      const usage = chunks.at(-1)!;
      assert.deepEqual(usage.choices, [], 'usage chunk last, with no choices');
      assert.equal(usage.usage!.total_tokens, usage.usage!.prompt_tokens + usage.usage!.completion_tokens);
    });
  }

  // The recorded stream/JSON pairs are separate calls (their responseIds differ), so equality is
  // asserted where the model happened to answer the same, and structure where it did not.
  const pairs: Array<{ name: string; sameText: boolean }> = [
    { name: 'google-reasoning', sameText: true },
    { name: 'google-text', sameText: false },
    { name: 'google-tool-call', sameText: true },
    { name: 'google-tool-call-gemini3', sameText: true },
  ];
  for (const { name, sameText } of pairs) {
    test(`${name}: streaming gives what the non-streaming translation gives`, () => {
      const streamed = collect(translate(loadChunks(`google/${name}.chunks.txt`)).chunks);
      const whole = parseGeminiResponse(loadJson(`google/${name}.json`), { requestedModel: 'gemini-1.5-pro', onDrop: () => {} }).completion.choices[0];
      assert.equal(streamed.finish, whole.finish_reason);
      assert.deepEqual(
        streamed.calls.map((c) => [c.type, c.function.name, JSON.parse(c.function.arguments)]),
        (whole.message.tool_calls ?? []).map((c) => [c.type, c.function.name, JSON.parse(c.function.arguments)]),
      );
      if (sameText) {
        assert.equal(streamed.content, whole.message.content ?? '');
      } else {
        // Different calls, different wording: both are a non-empty answer about the same thing.
        assert.ok(streamed.content.length > 0 && (whole.message.content ?? '').length > 0);
        assert.match(streamed.content, /strawberry/);
        assert.match(whole.message.content!, /strawberry/);
      }
    });
  }

  test('google-tool-call: the call arrives in chunk 1 and STOP in chunk 2, still tool_calls', () => {
    const { chunks } = translate(loadChunks('google/google-tool-call.chunks.txt'));
    const got = collect(chunks);
    assert.equal(got.finish, 'tool_calls');
    assert.deepEqual(got.calls, [{ id: 'call_b36LacjwM668nsEP2tbsgQQ_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }]);
    // The first fragment carries id, type, name and empty arguments.
    const first = chunks.find((c) => c.choices[0]?.delta.tool_calls)!;
    assert.deepEqual(first.choices[0].delta.tool_calls, [{ index: 0, id: 'call_b36LacjwM668nsEP2tbsgQQ_0', type: 'function', function: { name: 'weather', arguments: '' } }]);
  });

  test('google-text: usage is the last usageMetadata, thoughts included in completion', () => {
    const { chunks, billable } = translate(loadChunks('google/google-text.chunks.txt'));
    assert.deepEqual(chunks.at(-1)!.usage, {
      prompt_tokens: 9,
      completion_tokens: 23 + 185,
      total_tokens: 217,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 185 },
    });
    assert.equal(billable!.outputTokens, 208);
  });

  test('Vertex argument fragments are assembled into one complete call', () => {
    const got = collect(translate(loadChunks('google/google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt')).chunks);
    assert.equal(got.finish, 'tool_calls');
    assert.equal(got.calls.length, 1);
    assert.equal(got.calls[0].function.name, 'writeItems');
    assert.deepEqual(JSON.parse(got.calls[0].function.arguments), {
      operations: [
        { action: 'add', description: 'Fresh red apple', itemid: 'apple_001', price: 0.5 },
        { action: 'add', description: 'Ripe yellow banana', itemid: 'banana_001', price: 0.3 },
      ],
    });
    const nested = collect(translate(loadChunks('google/google-vertex-stream-tool-call-arguments-nested.1.chunks.txt')).chunks);
    const recipe = JSON.parse(nested.calls[0].function.arguments).recipe;
    assert.equal(recipe.ingredients[0].name, 'Lasagna noodles');
    assert.equal(recipe.steps[4], 'In a 9x13 baking dish, spread a thin layer of meat sauce.');
  });
});

describe('Gemini stream translator: behaviour', () => {
  test('thought parts stream as reasoning_content, text as content', () => {
    const got = collect(
      translate(events({ candidates: [{ content: { parts: [{ text: 'Let me think', thought: true }] }, index: 0 }] }, { candidates: [text('Answer', { finishReason: 'STOP' })] })).chunks,
    );
    assert.deepEqual([got.reasoning, got.content, got.finish], ['Let me think', 'Answer', 'stop']);
  });

  test('two calls in one event: indexes 0 and 1, distinct ids, name on the first fragment only', () => {
    const { chunks } = translate(
      events({
        responseId: 'r1',
        candidates: [
          {
            content: { parts: [{ text: 'Checking.' }, { functionCall: { name: 'f', args: { a: 1 } } }, { functionCall: { name: 'f', args: { a: 2 } } }] },
            finishReason: 'STOP',
          },
        ],
      }),
    );
    const got = collect(chunks);
    assert.equal(got.content, 'Checking.');
    assert.deepEqual(got.calls.map((c) => [c.id, c.function.arguments]), [
      ['call_r1_0', '{"a":1}'],
      ['call_r1_1', '{"a":2}'],
    ]);
    assert.equal(got.finish, 'tool_calls');
    const argFragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((tc) => !tc.id);
    assert.ok(argFragments.every((tc) => tc.function?.name === undefined && tc.type === undefined));
  });

  test('MAX_TOKENS → length; SAFETY → content_filter', () => {
    assert.equal(collect(translate(events({ candidates: [text('trunc', { finishReason: 'MAX_TOKENS' })] })).chunks).finish, 'length');
    assert.equal(collect(translate(events({ candidates: [text('bad', { finishReason: 'SAFETY' })] })).chunks).finish, 'content_filter');
  });

  test('a blocked prompt → content_filter with no content, usage still reported', () => {
    const { chunks, billable } = translate(
      events({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 } }),
    );
    const got = collect(chunks);
    assert.deepEqual([got.content, got.finish], ['', 'content_filter']);
    assert.equal(chunks.at(-1)!.usage!.prompt_tokens, 12);
    assert.equal(billable!.inputTokens, 12);
  });

  test('an error event mid-stream throws a ProviderError', () => {
    const t = createGeminiStreamTranslator({ requestedModel: 'm', onDrop: () => {} });
    t.push({ data: JSON.stringify({ candidates: [text('partial')] }) });
    assert.throws(
      () => t.push({ data: JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' } }) }),
      (e: unknown) => e instanceof ProviderError && e.status === 503,
    );
  });

  test('a stream that ends without finishReason still finishes; no usage chunk without usage', () => {
    const { chunks } = translate(events({ candidates: [text('hi')] }));
    assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'stop');
    assert.ok(chunks.every((c) => c.usage === undefined));
  });

  test('non-JSON and unknown parts are dropped and reported, not thrown', () => {
    const { chunks, dropped } = translate([
      { data: 'not json' },
      ...events({ candidates: [{ content: { parts: [{ executableCode: { code: 'print(1)' } }, { text: 'ok' }] }, finishReason: 'STOP' }] }),
    ]);
    assert.equal(collect(chunks).content, 'ok');
    assert.deepEqual(dropped.map(([w]) => w), ['stream event', 'response part']);
  });

  test('several candidates (n>1) stream as separate choices, each with its own role and finish', () => {
    const { chunks } = translate(
      events(
        { candidates: [text('A', { index: 0 }), text('B', { index: 1 })] },
        { candidates: [text('a', { index: 0, finishReason: 'STOP' }), text('b', { index: 1, finishReason: 'MAX_TOKENS' })] },
      ),
    );
    assert.deepEqual([collect(chunks, 0).content, collect(chunks, 0).finish], ['Aa', 'stop']);
    assert.deepEqual([collect(chunks, 1).content, collect(chunks, 1).finish], ['Bb', 'length']);
    assert.equal(chunks.filter((c) => c.choices[0]?.delta.role === 'assistant').length, 2);
  });
});

describe('applyPartialArg', () => {
  test('paths create objects and arrays; string fragments append', () => {
    const args: Record<string, unknown> = {};
    applyPartialArg(args, { jsonPath: '$.a[0].b', stringValue: 'he' });
    applyPartialArg(args, { jsonPath: '$.a[0].b', stringValue: 'llo' });
    applyPartialArg(args, { jsonPath: "$['c']", boolValue: true });
    applyPartialArg(args, { jsonPath: '$.d', nullValue: null });
    assert.deepEqual(args, { a: [{ b: 'hello' }], c: true, d: null });
    assert.equal(applyPartialArg(args, { jsonPath: 'nonsense', stringValue: 'x' }), false);
  });
});
