// An Anthropic Messages response → an OpenAI chat.completion.
// text blocks → content (concatenated: web-search answers come as many consecutive blocks);
// thinking blocks → reasoning_content; tool_use blocks → tool_calls. Blocks of server tools, compaction,
// fallback markers and redacted thinking have no chat-completions equivalent: dropped and reported.

import type { ChatCompletion, ParsedResponse, ToolCall, TranslateContext } from '../types.js';
import { mapFinishReason } from './map-finish-reason.js';
import { mapAnthropicStreamError } from './map-error.js';
import { toBillableUsage, toOpenAIUsage } from './map-usage.js';
import { upstreamError } from '../shared/upstream-error.js';
import type { MessagesResponse, MessagesUsage } from './wire-types.js';

/** `msg_01Vd…` → `chatcmpl-01Vd…`: clients expect the OpenAI prefix; the rest keeps it traceable upstream. */
export function completionId(upstreamId: unknown): string {
  return typeof upstreamId === 'string' && upstreamId !== '' ? `chatcmpl-${upstreamId.replace(/^msg_/, '')}` : `chatcmpl-${crypto.randomUUID()}`;
}

/** Tool input is an object upstream and a JSON string in OpenAI's shape; `{}` when there are no arguments. */
export function argumentsOf(input: unknown): string {
  if (input === undefined || input === null) return '{}';
  return JSON.stringify(input);
}

function isMessage(body: unknown): body is MessagesResponse {
  const b = body as Partial<MessagesResponse> | null;
  return !!b && typeof b === 'object' && b.type === 'message' && Array.isArray(b.content);
}

export function parseAnthropicResponse(body: unknown, ctx: TranslateContext): ParsedResponse {
  if ((body as { type?: unknown } | null)?.type === 'error') throw mapAnthropicStreamError(body);
  if (!isMessage(body)) {
    // A 200 that is not a message (a proxy page, another endpoint's object): an upstream failure.
    throw upstreamError(502, { message: 'The upstream answered with something that is not an Anthropic message.', kind: 'server' });
  }
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  const dropped = new Set<string>();
  for (const block of body.content) {
    if (block?.type === 'text' && typeof block.text === 'string') {
      texts.push(block.text);
      if (block.citations) dropped.add('citations');
    } else if (block?.type === 'thinking' && typeof block.thinking === 'string') {
      thoughts.push(block.thinking);
    } else if (block?.type === 'tool_use') {
      const call = block as { id?: unknown; name?: unknown; input?: unknown };
      toolCalls.push({ id: String(call.id ?? ''), type: 'function', function: { name: String(call.name ?? ''), arguments: argumentsOf(call.input) } });
    } else {
      dropped.add(`content block ${String(block?.type)}`);
    }
  }
  for (const what of dropped) ctx.onDrop(what, { reason: 'no chat-completions equivalent' });

  const usage: MessagesUsage = body.usage && typeof body.usage === 'object' ? body.usage : {};
  const text = texts.join('');
  const completion: ChatCompletion = {
    id: completionId(body.id),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.requestedModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // null when the answer is only tool calls or a refusal without words, as OpenAI does.
          content: texts.length > 0 ? text : toolCalls.length > 0 || body.stop_reason === 'refusal' ? null : '',
          refusal: null,
          ...(thoughts.length > 0 ? { reasoning_content: thoughts.join('\n\n') } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: mapFinishReason(body.stop_reason, ctx.onDrop),
      },
    ],
    usage: toOpenAIUsage(usage),
  };
  return { completion, billable: toBillableUsage(usage) };
}
