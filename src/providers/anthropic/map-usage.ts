// Anthropic usage → OpenAI usage and BillableUsage.
//
// Anthropic's `input_tokens` EXCLUDES the prompt tokens read from or written to the cache; those are
// `cache_read_input_tokens` and `cache_creation_input_tokens` (split by TTL in `cache_creation`, since
// a 1-hour write costs 2× input and a 5-minute write 1.25×). `output_tokens` already includes thinking.
// OpenAI's prompt_tokens is the whole prompt, cached part included, hence the sums below.

import type { BillableUsage, Usage } from '../types.js';
import type { MessagesUsage } from './wire-types.js';

const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
const present = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

interface CacheWrites {
  total: number;
  fiveMinutes: number;
  oneHour: number;
}

function cacheWrites(u: MessagesUsage): CacheWrites {
  const oneHour = count(u.cache_creation?.ephemeral_1h_input_tokens);
  const reportedTotal = count(u.cache_creation_input_tokens);
  // Without the TTL split (older API versions, some proxies) every write is a 5-minute write, the
  // default TTL. Never bill fewer writes than the reported total.
  const fiveMinutes = Math.max(count(u.cache_creation?.ephemeral_5m_input_tokens), reportedTotal - oneHour);
  return { total: fiveMinutes + oneHour, fiveMinutes, oneHour };
}

export function toOpenAIUsage(u: MessagesUsage): Usage {
  const cacheRead = count(u.cache_read_input_tokens);
  const prompt = count(u.input_tokens) + cacheRead + cacheWrites(u).total;
  const completion = count(u.output_tokens);
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  // Only newer responses count thinking separately; a made-up 0 would claim "no reasoning" when it is unknown.
  if (present(u.output_tokens_details?.thinking_tokens)) {
    usage.completion_tokens_details = { reasoning_tokens: count(u.output_tokens_details?.thinking_tokens) };
  }
  return usage;
}

/** pricing.md: input·In + cache_5m·1.25In + cache_1h·2In + cache_read·Cached + output·Out. */
export function toBillableUsage(u: MessagesUsage): BillableUsage {
  const writes = cacheWrites(u);
  const cachedInputTokens = count(u.cache_read_input_tokens);
  const inputTokens = count(u.input_tokens);
  return {
    inputTokens,
    cachedInputTokens,
    cacheWrite5mTokens: writes.fiveMinutes,
    cacheWrite1hTokens: writes.oneHour,
    outputTokens: count(u.output_tokens),
    reasoningTokens: count(u.output_tokens_details?.thinking_tokens),
    promptTokens: inputTokens + cachedInputTokens + writes.total,
  };
}

/**
 * Streams report usage twice: `message_start` (input and cache, output_tokens 1) and `message_delta`
 * (cumulative output; newer API versions repeat input and cache there, and the values can differ).
 * The last reported value of each field wins.
 */
export function mergeUsage(previous: MessagesUsage | undefined, next: MessagesUsage | null | undefined): MessagesUsage {
  const out: MessagesUsage = { ...previous };
  if (!next || typeof next !== 'object') return out;
  for (const field of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
    if (present(next[field])) out[field] = next[field];
  }
  if (next.cache_creation && typeof next.cache_creation === 'object') {
    const split = { ...out.cache_creation };
    if (present(next.cache_creation.ephemeral_5m_input_tokens)) split.ephemeral_5m_input_tokens = next.cache_creation.ephemeral_5m_input_tokens;
    if (present(next.cache_creation.ephemeral_1h_input_tokens)) split.ephemeral_1h_input_tokens = next.cache_creation.ephemeral_1h_input_tokens;
    out.cache_creation = split;
  }
  if (present(next.output_tokens_details?.thinking_tokens)) {
    out.output_tokens_details = { thinking_tokens: next.output_tokens_details.thinking_tokens };
  }
  return out;
}
