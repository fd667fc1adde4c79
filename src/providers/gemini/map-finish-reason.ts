// Gemini finishReason (and a blocked prompt) → OpenAI finish_reason.

import type { FinishReason } from '../types.js';

const CONTENT_FILTER = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/**
 * Gemini ends a function-calling turn with plain `STOP`, so whether calls were emitted decides
 * between `stop` and `tool_calls`. Reasons OpenAI has no word for (MALFORMED_FUNCTION_CALL, OTHER,
 * LANGUAGE, and whatever Google adds next) end as `stop`, and are reported through `onUnmapped`.
 */
export function mapFinishReason(
  reason: string | undefined,
  sawToolCall: boolean,
  onUnmapped: (reason: string) => void = () => {},
): FinishReason {
  if (reason === undefined || reason === 'STOP' || reason === 'FINISH_REASON_UNSPECIFIED') return sawToolCall ? 'tool_calls' : 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER.has(reason)) return 'content_filter';
  onUnmapped(reason);
  return sawToolCall ? 'tool_calls' : 'stop';
}

/** A prompt Gemini refused to answer at all: no candidates, only `promptFeedback.blockReason`. */
export function promptBlockReason(response: { candidates?: unknown[]; promptFeedback?: { blockReason?: string } }): string | undefined {
  const blocked = response.promptFeedback?.blockReason;
  return blocked && (!response.candidates || response.candidates.length === 0) ? blocked : undefined;
}
