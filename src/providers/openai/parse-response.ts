// OpenAI-compatible chat.completion → the client's chat.completion: the model id the client asked for,
// usage in OpenAI semantics, and tool calls that always carry `type: "function"`.

import type { ChatCompletion, ParsedResponse, TranslateContext } from '../types.js';
import { mapOpenAIUsage } from './map-usage.js';

const EMPTY_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

export function parseOpenAIResponse(body: unknown, ctx: TranslateContext): ParsedResponse {
  const raw = (body ?? {}) as Partial<ChatCompletion> & { usage?: Record<string, unknown> };
  const { usage, billable } = mapOpenAIUsage((raw.usage as any) ?? EMPTY_USAGE);
  if (!raw.usage) ctx.onDrop('usage', 'upstream response carried no usage');
  const choices = (Array.isArray(raw.choices) ? raw.choices : []).map((choice, i) => {
    const message = { ...(choice?.message ?? { role: 'assistant', content: null }) };
    message.role = 'assistant';
    if (message.content === undefined) message.content = null;
    if (Array.isArray(message.tool_calls)) {
      message.tool_calls = message.tool_calls.map((call) => ({
        ...call,
        type: 'function' as const,
        function: { name: call.function?.name ?? '', arguments: call.function?.arguments || '{}' },
      }));
      if (message.tool_calls.length === 0) delete message.tool_calls;
      // xAI sends content "" beside tool calls; OpenAI sends null, which is what clients test for.
      else if (message.content === '') message.content = null;
    }
    return { index: choice?.index ?? i, message, logprobs: choice?.logprobs ?? null, finish_reason: choice?.finish_reason ?? 'stop' };
  });
  const completion: ChatCompletion = {
    ...(raw as object),
    id: typeof raw.id === 'string' && raw.id ? raw.id : `chatcmpl-${Date.now().toString(36)}`,
    object: 'chat.completion',
    created: typeof raw.created === 'number' ? raw.created : Math.floor(Date.now() / 1000),
    model: ctx.requestedModel,
    choices,
    usage,
  };
  return { completion, billable };
}
