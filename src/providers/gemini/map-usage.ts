// Gemini usageMetadata → OpenAI usage and BillableUsage (pricing.md: Gemini).
// cachedContentTokenCount is a subset of promptTokenCount (unlike Anthropic), and thoughts are
// counted apart from candidates although both are billed as output.

import type { BillableUsage, Usage } from '../types.js';

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
  [extra: string]: unknown;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Tool-use prompt tokens (server tools' results fed back to the model) are input like any other. */
function promptTokens(meta: GeminiUsageMetadata): number {
  return count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount);
}

export function mapUsage(meta: GeminiUsageMetadata): Usage {
  const prompt = promptTokens(meta);
  const reasoning = count(meta.thoughtsTokenCount);
  const completion = count(meta.candidatesTokenCount) + reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.min(count(meta.cachedContentTokenCount), prompt) },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

export function mapBillableUsage(meta: GeminiUsageMetadata): BillableUsage {
  const prompt = promptTokens(meta);
  const cached = Math.min(count(meta.cachedContentTokenCount), prompt);
  const reasoning = count(meta.thoughtsTokenCount);
  return {
    inputTokens: prompt - cached,
    cachedInputTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: count(meta.candidatesTokenCount) + reasoning,
    reasoningTokens: reasoning,
    promptTokens: prompt,
  };
}

/** Usage metadata in a streamed event that carries token counts (Vertex sends `{trafficType}` alone). */
export function hasTokenCounts(meta: unknown): meta is GeminiUsageMetadata {
  if (typeof meta !== 'object' || meta === null) return false;
  const m = meta as GeminiUsageMetadata;
  return m.promptTokenCount !== undefined || m.candidatesTokenCount !== undefined || m.totalTokenCount !== undefined;
}
