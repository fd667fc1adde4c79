// Responses usage → OpenAI chat usage and billable usage. Both OpenAI and xAI count cached tokens
// inside input_tokens and reasoning tokens inside output_tokens, which are the chat semantics already.

import type { BillableUsage, Usage } from '../types.js';
import type { ResponsesUsage } from './wire-types.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

export function toChatUsage(usage: ResponsesUsage): Usage {
  const prompt = count(usage.input_tokens);
  const completion = count(usage.output_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.min(prompt, count(usage.input_tokens_details?.cached_tokens)) },
    completion_tokens_details: { reasoning_tokens: Math.min(completion, count(usage.output_tokens_details?.reasoning_tokens)) },
  };
}

/** pricing.md, OpenAI: (prompt − cached)·In + cached·Cached + completion·Out. */
export function toBillableUsage(usage: ResponsesUsage): BillableUsage {
  const chat = toChatUsage(usage);
  const cached = chat.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    inputTokens: chat.prompt_tokens - cached,
    cachedInputTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: chat.completion_tokens,
    reasoningTokens: chat.completion_tokens_details?.reasoning_tokens ?? 0,
    promptTokens: chat.prompt_tokens,
  };
}

/** A response without usage (a cut-off stream, a malformed body) bills nothing here; the pipeline estimates. */
export const NO_USAGE: ResponsesUsage = { input_tokens: 0, output_tokens: 0 };
