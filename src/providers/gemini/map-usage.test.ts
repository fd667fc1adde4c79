import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson } from '../../../test/fixtures/load.js';
import { hasTokenCounts, mapBillableUsage, mapUsage } from './map-usage.js';

describe('mapUsage', () => {
  test('recorded usage: thoughts count as completion and reasoning; total matches Gemini', () => {
    const meta = loadJson('google/google-text.json').usageMetadata;
    const usage = mapUsage(meta);
    assert.deepEqual(usage, {
      prompt_tokens: 9,
      completion_tokens: 28 + 244,
      total_tokens: 281,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 244 },
    });
    assert.equal(usage.total_tokens, meta.totalTokenCount);
  });

  test('cached tokens are a subset of the prompt, not added to it', () => {
    const usage = mapUsage({ promptTokenCount: 1000, cachedContentTokenCount: 600, candidatesTokenCount: 10, totalTokenCount: 1010 });
    assert.equal(usage.prompt_tokens, 1000);
    assert.equal(usage.prompt_tokens_details!.cached_tokens, 600);
    assert.equal(usage.total_tokens, 1010);
  });

  test('tool-use prompt tokens are prompt tokens', () => {
    const usage = mapUsage({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 17 });
    assert.equal(usage.prompt_tokens, 15);
    assert.equal(usage.total_tokens, 17);
  });

  test('missing counts are zeros', () => {
    assert.deepEqual(mapUsage({}), {
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });
});

describe('mapBillableUsage (pricing.md: (prompt − cached)·In + cached·Cached + (candidates + thoughts)·Out)', () => {
  test('uncached input excludes cache reads; output includes thoughts; the tier sees the whole prompt', () => {
    assert.deepEqual(mapBillableUsage({ promptTokenCount: 200_000, cachedContentTokenCount: 150_000, candidatesTokenCount: 300, thoughtsTokenCount: 700 }), {
      inputTokens: 50_000,
      cachedInputTokens: 150_000,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 1000,
      reasoningTokens: 700,
      promptTokens: 200_000,
    });
  });
});

describe('hasTokenCounts', () => {
  test('Vertex sends usageMetadata with only trafficType until the end', () => {
    assert.equal(hasTokenCounts({ trafficType: 'ON_DEMAND' }), false);
    assert.equal(hasTokenCounts({ promptTokenCount: 3 }), true);
    assert.equal(hasTokenCounts(undefined), false);
  });
});
