// A whole Responses API response → chat.completion.
// Output items are read in order: message text is concatenated (gpt-5.x may send a `commentary` and a
// `final_answer` message), function calls become tool_calls keyed by call_id, reasoning summaries
// become reasoning_content. Server-side tool items (web search, MCP, shell…) have no chat form and are dropped.

import type { ChatCompletion, ParsedResponse, ToolCall, TranslateContext } from '../types.js';
import { mapResponsesFailure } from './map-error.js';
import { mapFinishReason } from './map-finish-reason.js';
import { NO_USAGE, toBillableUsage, toChatUsage } from './map-usage.js';
import { declaresParallelTool, expandParallelWrapper, PARALLEL_WRAPPER_NAME } from './parallel-wrapper.js';
import type { ResponsesOutputItem, ResponsesResponse } from './wire-types.js';

/** Chat ids start with chatcmpl-; the upstream id is kept inside so logs can be matched. */
export function chatCompletionId(responseId: string | undefined): string {
  return `chatcmpl-${(responseId ?? 'responses').replace(/^resp_/, '')}`;
}

/** Separates reasoning segments (summary parts, reasoning items); the stream translator inserts the same. */
export const REASONING_SEPARATOR = '\n\n';

function reasoningSegments(item: ResponsesOutputItem): string[] {
  const summary = (item.summary ?? []).map((part) => part?.text ?? '');
  // Open-weight and third-party reasoners put raw reasoning in content parts of type reasoning_text.
  const raw = (item.content ?? []).filter((part) => part?.type === 'reasoning_text').map((part) => part.text ?? '');
  return [...summary, ...raw].filter((text) => text !== '');
}

export function toolCallsOf(item: ResponsesOutputItem, expandWrapper: boolean): ToolCall[] {
  const callId = item.call_id ?? item.id ?? '';
  const args = item.arguments || '{}';
  if (expandWrapper && item.name === PARALLEL_WRAPPER_NAME) {
    const expanded = expandParallelWrapper(callId, args);
    if (expanded) return expanded;
  }
  return [{ id: callId, type: 'function', function: { name: item.name ?? '', arguments: args } }];
}

export function parseResponsesResponse(body: unknown, ctx: TranslateContext): ParsedResponse {
  const response = (body ?? {}) as ResponsesResponse;
  if (response.status === 'failed' || response.status === 'cancelled' || (!Array.isArray(response.output) && response.error)) {
    throw mapResponsesFailure(response.error ?? { message: `The upstream response was ${response.status}.` });
  }
  const expandWrapper = !declaresParallelTool(response.tools);
  let text = '';
  let refusal = '';
  const reasoning: string[] = [];
  const toolCalls: ToolCall[] = [];
  let annotations = 0;

  for (const item of response.output ?? []) {
    switch (item?.type) {
      case 'message':
        for (const part of item.content ?? []) {
          if (part?.type === 'output_text') {
            text += part.text ?? '';
            annotations += part.annotations?.length ?? 0;
          } else if (part?.type === 'refusal') refusal += part.refusal ?? '';
          else ctx.onDrop(`message content part ${part?.type}`, { item: item.id });
        }
        break;
      case 'function_call':
        toolCalls.push(...toolCallsOf(item, expandWrapper));
        break;
      case 'reasoning':
        reasoning.push(...reasoningSegments(item));
        break;
      default:
        ctx.onDrop(`output item ${item?.type}`, { id: item?.id, reason: 'server-side tool output has no chat form' });
    }
  }
  if (annotations) ctx.onDrop('output_text annotations', { count: annotations });
  if (!response.usage) ctx.onDrop('usage', { reason: 'the response carried none' });

  const usage = response.usage ?? NO_USAGE;
  const completion: ChatCompletion = {
    id: chatCompletionId(response.id),
    object: 'chat.completion',
    created: response.created_at ?? Math.floor(Date.now() / 1000),
    model: ctx.requestedModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || (toolCalls.length || refusal ? null : ''),
          refusal: refusal || null,
          ...(reasoning.length ? { reasoning_content: reasoning.join(REASONING_SEPARATOR) } : {}),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: mapFinishReason({
          status: response.status,
          incompleteReason: response.incomplete_details?.reason,
          hasToolCalls: toolCalls.length > 0,
          hasRefusal: refusal !== '',
        }),
      },
    ],
    usage: toChatUsage(usage),
    ...(response.service_tier ? { service_tier: response.service_tier } : {}),
  };
  return { completion, billable: toBillableUsage(usage) };
}
