import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapOpenAIUsage } from './map-usage.js';
import { loadJson } from '../../../test/fixtures/load.js';

test('OpenAI usage keeps its semantics and splits cached input for billing', () => {
  const { usage, billable } = mapOpenAIUsage({
    prompt_tokens: 100,
    completion_tokens: 50,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 40 },
    completion_tokens_details: { reasoning_tokens: 20 },
  });
  assert.equal(usage.completion_tokens, 50);
  assert.equal(usage.total_tokens, 150);
  assert.deepEqual(
    { input: billable.inputTokens, cached: billable.cachedInputTokens, output: billable.outputTokens, reasoning: billable.reasoningTokens },
    { input: 60, cached: 40, output: 50, reasoning: 20 },
  );
});

test('xAI reasoning tokens are added to completion_tokens (its total counts them separately)', () => {
  const body = loadJson('openai-compatible/chat_xai-tool-call.json');
  const { usage, billable } = mapOpenAIUsage(body.usage);
  // 307 prompt + 26 completion + 255 reasoning = 588 total upstream.
  assert.equal(usage.completion_tokens, 26 + 255);
  assert.equal(usage.total_tokens, 588);
  assert.equal(usage.prompt_tokens_details?.cached_tokens, 244);
  assert.equal(billable.inputTokens, 307 - 244);
  assert.equal(billable.outputTokens, 281);
});

test('DeepSeek cache hits count as cached input; reasoning is already inside completion_tokens', () => {
  const { usage, billable } = mapOpenAIUsage({
    prompt_tokens: 18,
    completion_tokens: 345,
    total_tokens: 363,
    completion_tokens_details: { reasoning_tokens: 315 },
    prompt_cache_hit_tokens: 8,
    prompt_cache_miss_tokens: 10,
  });
  assert.equal(usage.completion_tokens, 345);
  assert.equal(billable.cachedInputTokens, 8);
  assert.equal(billable.inputTokens, 10);
});

test('garbage counts become zero rather than NaN', () => {
  const { usage } = mapOpenAIUsage({ prompt_tokens: -3, completion_tokens: Number.NaN } as any);
  assert.deepEqual([usage.prompt_tokens, usage.completion_tokens, usage.total_tokens], [0, 0, 0]);
});
