import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson, recordedFiles } from '../../../test/fixtures/load.js';
import { ProviderError } from '../types.js';
import { parseGeminiResponse } from './parse-response.js';

function parse(body: unknown) {
  const dropped: Array<[string, unknown]> = [];
  const out = parseGeminiResponse(body, { requestedModel: 'gemini-1.5-flash', onDrop: (w, d) => void dropped.push([w, d]) });
  return { ...out, dropped };
}

describe('parseGeminiResponse: recorded traffic', () => {
  for (const file of recordedFiles('google', (n) => n.endsWith('.json') && !n.includes('429'))) {
    test(`${file} translates into a chat.completion`, () => {
      const { completion, billable } = parse(loadJson(file));
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.model, 'gemini-1.5-flash');
      assert.match(completion.id, /^chatcmpl-/);
      assert.equal(completion.choices.length, 1);
      assert.equal(completion.usage!.total_tokens, loadJson(file).usageMetadata.totalTokenCount);
      assert.equal(billable.outputTokens, completion.usage!.completion_tokens);
    });
  }

  test('google-text.json: text, stop, usage with thoughts as reasoning', () => {
    const { completion, billable, dropped } = parse(loadJson('google/google-text.json'));
    assert.equal(completion.id, 'chatcmpl-Un6LacrVMcjUxs0PmJfWoQc');
    assert.deepEqual(completion.choices[0], {
      index: 0,
      message: { role: 'assistant', content: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.", refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    });
    assert.deepEqual(completion.usage, {
      prompt_tokens: 9,
      completion_tokens: 272,
      total_tokens: 281,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 244 },
    });
    assert.deepEqual(billable, { inputTokens: 9, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 272, reasoningTokens: 244, promptTokens: 9 });
    assert.deepEqual(dropped.map(([w]) => w), ['thoughtSignature']);
  });

  test('google-tool-call.json: STOP with a functionCall is tool_calls, with a synthesised id', () => {
    const { completion } = parse(loadJson('google/google-tool-call.json'));
    assert.deepEqual(completion.choices[0].message, {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: [{ id: 'call_m36LaZGyCLz1xs0PtNSB-QU_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }],
    });
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
  });
});

describe('parseGeminiResponse: behaviour', () => {
  test('thought parts become reasoning_content; text parts concatenate', () => {
    const { completion } = parse({
      candidates: [{ content: { parts: [{ text: 'Hmm.', thought: true }, { text: 'Hello ' }, { text: 'there' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, thoughtsTokenCount: 1, totalTokenCount: 6 },
    });
    assert.equal(completion.choices[0].message.content, 'Hello there');
    assert.equal(completion.choices[0].message.reasoning_content, 'Hmm.');
    assert.equal(completion.usage!.completion_tokens_details!.reasoning_tokens, 1);
  });

  test('the same function called twice gets two different ids', () => {
    const { completion } = parse({
      responseId: 'abc',
      candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: { x: 1 } } }, { functionCall: { name: 'f' } }] }, finishReason: 'STOP' }],
    });
    const calls = completion.choices[0].message.tool_calls!;
    assert.deepEqual(calls.map((c) => c.id), ['call_abc_0', 'call_abc_1']);
    assert.equal(calls[1].function.arguments, '{}');
  });

  test('a blocked prompt is content_filter with empty content', () => {
    const { completion, dropped } = parse({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } });
    assert.deepEqual(completion.choices, [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' }]);
    assert.equal(completion.usage!.prompt_tokens, 8);
    assert.equal(dropped[0][0], 'promptFeedback');
  });

  test('a candidate stopped for SAFETY mid-answer is content_filter; MAX_TOKENS is length', () => {
    assert.equal(parse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'SAFETY' }] }).completion.choices[0].finish_reason, 'content_filter');
    assert.equal(parse({ candidates: [{ finishReason: 'SAFETY' }] }).completion.choices[0].message.content, '');
    assert.equal(parse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'MAX_TOKENS' }] }).completion.choices[0].finish_reason, 'length');
  });

  test('n>1: one choice per candidate, by index', () => {
    const { completion } = parse({
      candidates: [
        { content: { parts: [{ text: 'second' }] }, finishReason: 'STOP', index: 1 },
        { content: { parts: [{ text: 'first' }] }, finishReason: 'STOP', index: 0 },
      ],
    });
    assert.deepEqual(completion.choices.map((c) => [c.index, c.message.content]), [
      [0, 'first'],
      [1, 'second'],
    ]);
  });

  test('logprobs are returned in OpenAI form', () => {
    const { completion } = parse({
      candidates: [
        {
          content: { parts: [{ text: 'Hi' }] },
          finishReason: 'STOP',
          logprobsResult: { chosenCandidates: [{ token: 'Hi', logProbability: -0.1 }], topCandidates: [{ candidates: [{ token: 'Hi', logProbability: -0.1 }, { token: 'Yo', logProbability: -2 }] }] },
        },
      ],
    });
    assert.deepEqual(completion.choices[0].logprobs, {
      content: [
        {
          token: 'Hi',
          logprob: -0.1,
          bytes: [72, 105],
          top_logprobs: [
            { token: 'Hi', logprob: -0.1, bytes: [72, 105] },
            { token: 'Yo', logprob: -2, bytes: [89, 111] },
          ],
        },
      ],
      refusal: null,
    });
  });

  test('unknown parts and grounding metadata are reported, not thrown', () => {
    const { completion, dropped } = parse({
      candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AA==' } }, { text: 'ok' }] }, finishReason: 'STOP', groundingMetadata: {} }],
    });
    assert.equal(completion.choices[0].message.content, 'ok');
    assert.deepEqual(dropped.map(([w]) => w), ['response part', 'candidate field']);
  });

  test('a collected JSON-array stream folds into one completion', () => {
    const { completion } = parse([
      { responseId: 'r', candidates: [{ content: { parts: [{ text: 'Hel' }] } }] },
      { responseId: 'r', candidates: [{ content: { parts: [{ text: 'lo' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 } },
    ]);
    assert.equal(completion.choices[0].message.content, 'Hello');
    assert.equal(completion.usage!.total_tokens, 3);
  });

  test('an error body throws the mapped ProviderError', () => {
    assert.throws(
      () => parse({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'slow down' } }),
      (e: unknown) => e instanceof ProviderError && e.status === 429,
    );
  });
});
