import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeUsage, toBillableUsage, toOpenAIUsage } from './map-usage.js';
import { loadJson } from '../../../test/fixtures/load.js';

describe('toOpenAIUsage', () => {
  test('a plain response: prompt is input, completion is output', () => {
    const usage = toOpenAIUsage(loadJson('anthropic/anthropic-text.json').usage);
    assert.deepEqual(usage, { prompt_tokens: 12, completion_tokens: 29, total_tokens: 41, prompt_tokens_details: { cached_tokens: 0 } });
  });

  test('prompt_tokens adds cache reads and writes back; cached_tokens is the cache read', () => {
    const usage = toOpenAIUsage({
      input_tokens: 10,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 500,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
      output_tokens: 7,
    });
    assert.equal(usage.prompt_tokens, 1510);
    assert.equal(usage.prompt_tokens_details?.cached_tokens, 1000);
    assert.equal(usage.completion_tokens, 7);
    assert.equal(usage.total_tokens, 1517);
  });

  test('reasoning tokens are reported only when Anthropic counts them', () => {
    const withThinking = toOpenAIUsage(loadJson('anthropic/anthropic-claude-opus-5-reasoning-high.1.json').usage);
    assert.equal(withThinking.completion_tokens, 1699, 'output_tokens already includes thinking');
    assert.deepEqual(withThinking.completion_tokens_details, { reasoning_tokens: 139 });
    assert.equal(toOpenAIUsage({ input_tokens: 1, output_tokens: 2 }).completion_tokens_details, undefined);
  });
});

describe('toBillableUsage', () => {
  test('input excludes the cache; writes are split by TTL', () => {
    assert.deepEqual(
      toBillableUsage({
        input_tokens: 10,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 500,
        cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
        output_tokens: 40,
        output_tokens_details: { thinking_tokens: 25 },
      }),
      { inputTokens: 10, cachedInputTokens: 1000, cacheWrite5mTokens: 200, cacheWrite1hTokens: 300, outputTokens: 40, reasoningTokens: 25, promptTokens: 1510 },
    );
  });

  test('writes without a TTL split are 5-minute writes (the default TTL)', () => {
    const billable = toBillableUsage({ input_tokens: 3, cache_creation_input_tokens: 900, output_tokens: 1 });
    assert.equal(billable.cacheWrite5mTokens, 900);
    assert.equal(billable.cacheWrite1hTokens, 0);
    assert.equal(billable.promptTokens, 903);
  });

  test('a split that does not add up to the reported total never bills less than the total', () => {
    const billable = toBillableUsage({
      input_tokens: 0,
      cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 },
    });
    assert.equal(billable.cacheWrite1hTokens, 40);
    assert.equal(billable.cacheWrite5mTokens, 60);
  });

  test('missing or null fields count as zero', () => {
    assert.deepEqual(toBillableUsage({ input_tokens: null, output_tokens: undefined }), {
      inputTokens: 0, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 0, reasoningTokens: 0, promptTokens: 0,
    });
  });
});

describe('mergeUsage', () => {
  test('message_delta values replace message_start values field by field', () => {
    const start = { input_tokens: 43, output_tokens: 1, cache_read_input_tokens: 5, cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 } };
    const merged = mergeUsage(mergeUsage(undefined, start), { input_tokens: 61, output_tokens: 2 });
    assert.equal(merged.input_tokens, 61);
    assert.equal(merged.output_tokens, 2);
    assert.equal(merged.cache_read_input_tokens, 5, 'kept from message_start when message_delta omits it');
    assert.equal(merged.cache_creation?.ephemeral_5m_input_tokens, 2);
  });

  test('nulls in a later event do not erase earlier values', () => {
    const merged = mergeUsage({ input_tokens: 12, cache_read_input_tokens: 3 }, { input_tokens: null, cache_read_input_tokens: null, output_tokens: 9 });
    assert.deepEqual(merged, { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 9 });
  });
});
