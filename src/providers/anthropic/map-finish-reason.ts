// Anthropic `stop_reason` → OpenAI `finish_reason`.

import type { FinishReason } from '../types.js';

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  // The matched sequence is in `stop_sequence`; OpenAI reports a stop-sequence hit as a plain stop.
  stop_sequence: 'stop',
  // A server-tool turn (web search, code execution) paused and would need resending to continue.
  // This gateway sends no server tools, so it only arrives from a deployment that adds them; what was
  // produced so far is a complete answer from the client's point of view.
  pause_turn: 'stop',
  max_tokens: 'length',
  // Newer models stop when the context window, not max_tokens, is the limit: still "cut short".
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  // Claude declined (its safety classifiers stopped the output): what OpenAI reports as content_filter.
  refusal: 'content_filter',
};

/**
 * Maps a stop reason; an unknown one (the API adds values over time) becomes `stop` and is reported,
 * so a new upstream value never breaks a response.
 */
export function mapFinishReason(stopReason: string | null | undefined, onDrop?: (what: string, detail?: unknown) => void): FinishReason {
  if (stopReason && Object.hasOwn(FINISH_REASONS, stopReason)) return FINISH_REASONS[stopReason];
  onDrop?.('stop_reason', { value: stopReason ?? null, reason: 'unknown stop reason, reported as stop' });
  return 'stop';
}
