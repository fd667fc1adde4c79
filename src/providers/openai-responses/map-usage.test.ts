import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson } from '../../../test/fixtures/load.js';
import { toBillableUsage, toChatUsage } from './map-usage.js';

// responses_openai-phase.1.json: 7243 input of which 3072 cached, 423 output of which 58 reasoning.
const usage = loadJson('openai/responses_openai-phase.1.json').usage;

test('chat usage keeps OpenAI semantics: cached inside prompt, reasoning inside completion', () => {
  assert.deepEqual(toChatUsage(usage), {
    prompt_tokens: 7243,
    completion_tokens: 423,
    total_tokens: 7666,
    prompt_tokens_details: { cached_tokens: 3072 },
    completion_tokens_details: { reasoning_tokens: 58 },
  });
});

test('billable usage separates uncached input and counts reasoning as output', () => {
  assert.deepEqual(toBillableUsage(usage), {
    inputTokens: 4171,
    cachedInputTokens: 3072,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: 423,
    reasoningTokens: 58,
    promptTokens: 7243,
  });
});

test('xAI Responses usage has the same semantics (input 1606 = 371 + 1235 cached)', () => {
  const xai = loadJson('xai/responses_xai-code-execution-tool.1.json').usage;
  const billable = toBillableUsage(xai);
  assert.equal(billable.inputTokens, 371);
  assert.equal(billable.cachedInputTokens, 1235);
  assert.equal(billable.outputTokens, 292);
  assert.equal(toChatUsage(xai).total_tokens, 1898);
});

test('missing details count as zero', () => {
  assert.deepEqual(toChatUsage({ input_tokens: 5, output_tokens: 2 }).prompt_tokens_details, { cached_tokens: 0 });
});
