// OpenAI-compatible usage → OpenAI semantics + billable usage. DeepSeek reports cache hits in its own
// fields, and xAI leaves reasoning tokens out of completion_tokens (total = prompt + completion + reasoning).

import type { BillableUsage, Usage } from '../types.js';

interface UpstreamUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  prompt_cache_hit_tokens?: number;
  prompt_cache_miss_tokens?: number;
  [extra: string]: unknown;
}

export interface MappedUsage {
  usage: Usage;
  billable: BillableUsage;
}

const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

export function mapOpenAIUsage(raw: UpstreamUsage): MappedUsage {
  const prompt = count(raw.prompt_tokens);
  let completion = count(raw.completion_tokens);
  const reasoning = count(raw.completion_tokens_details?.reasoning_tokens);
  const total = count(raw.total_tokens);
  if (reasoning > 0 && total === prompt + completion + reasoning) completion += reasoning;
  const cached = Math.min(prompt, count(raw.prompt_tokens_details?.cached_tokens) || count(raw.prompt_cache_hit_tokens));
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { ...(raw.prompt_tokens_details ?? {}), cached_tokens: cached },
    completion_tokens_details: { ...(raw.completion_tokens_details ?? {}), reasoning_tokens: reasoning },
  };
  const billable: BillableUsage = {
    inputTokens: prompt - cached,
    cachedInputTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: completion,
    reasoningTokens: reasoning,
    promptTokens: prompt,
  };
  return { usage, billable };
}
