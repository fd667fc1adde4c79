// A Responses status (+ incomplete reason) and what the output held → chat finish_reason.

import type { FinishReason } from '../types.js';

export interface OutputSummary {
  status?: string;
  incompleteReason?: string;
  hasToolCalls: boolean;
  hasRefusal: boolean;
}

export function mapFinishReason({ status, incompleteReason, hasToolCalls, hasRefusal }: OutputSummary): FinishReason {
  // A cut-off answer is reported as cut off even when it was cut inside a tool call: the client must
  // not run a call whose arguments may be truncated JSON (Chat Completions says `length` there too).
  if (status === 'incomplete') {
    if (incompleteReason === 'content_filter') return 'content_filter';
    return 'length';
  }
  if (hasToolCalls) return 'tool_calls';
  if (hasRefusal) return 'content_filter';
  return 'stop';
}
