// OpenAI-compatible SSE → chat.completion.chunk. Relays chunks as they come and touches only what a
// client needs normalised: the model id, tool-call indexes (some upstreams reuse block indexes),
// DeepSeek's usage riding on the finish chunk (split into its own chunk), and error payloads.

import type { BillableUsage, ChatCompletionChunk, SseEvent, StreamTranslator, TranslateContext } from '../types.js';
import { mapOpenAIUsage } from './map-usage.js';
import { mapOpenAIError } from './map-error.js';

export function createOpenAIStreamTranslator(ctx: TranslateContext): StreamTranslator {
  let billable: BillableUsage | undefined;
  let sawRole = false;
  // Per choice: upstream tool-call index → ordinal index in the order calls started.
  const toolIndexes = new Map<number, Map<number, number>>();

  function renumberToolCalls(choiceIndex: number, calls: Array<{ index?: number }>): void {
    let byUpstream = toolIndexes.get(choiceIndex);
    if (!byUpstream) toolIndexes.set(choiceIndex, (byUpstream = new Map()));
    for (const call of calls) {
      const upstream = typeof call.index === 'number' ? call.index : byUpstream.size;
      let ordinal = byUpstream.get(upstream);
      if (ordinal === undefined) byUpstream.set(upstream, (ordinal = byUpstream.size));
      call.index = ordinal;
    }
  }

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (data === '' || data === '[DONE]') return [];
      let chunk: any;
      try {
        chunk = JSON.parse(data);
      } catch {
        ctx.onDrop('malformed chunk', data.slice(0, 200));
        return [];
      }
      if (typeof chunk !== 'object' || chunk === null) {
        ctx.onDrop('malformed chunk', data.slice(0, 200));
        return [];
      }
      if (chunk.error) throw mapOpenAIError(500, JSON.stringify(chunk), {});
      const out: ChatCompletionChunk[] = [];
      const usage = chunk.usage;
      const choices: any[] = Array.isArray(chunk.choices) ? chunk.choices : [];
      chunk.model = ctx.requestedModel;
      chunk.object = 'chat.completion.chunk';
      if (choices.length > 0) {
        for (const choice of choices) {
          const delta = choice.delta ?? (choice.delta = {});
          if (!sawRole) {
            delta.role = 'assistant';
            sawRole = true;
          }
          if (Array.isArray(delta.tool_calls)) {
            renumberToolCalls(choice.index ?? 0, delta.tool_calls);
            for (const call of delta.tool_calls) if (call.id && !call.type) call.type = 'function';
          }
          if (choice.finish_reason === undefined) choice.finish_reason = null;
        }
        // The usage (null on most chunks) leaves the content chunk; undefined, not a copy without it:
        // JSON.stringify skips it, and the chunk keeps its shape (a rest-spread copy costs ~1.6 µs per chunk).
        chunk.usage = undefined;
        out.push(chunk as ChatCompletionChunk);
      } else if (!usage) {
        // Azure sends a prompt_filter_results chunk with no choices and empty ids before the answer.
        ctx.onDrop('chunk without choices', Object.keys(chunk));
        return [];
      }
      if (usage) {
        const mapped = mapOpenAIUsage(usage);
        billable = mapped.billable;
        out.push({ id: chunk.id, object: 'chat.completion.chunk', created: chunk.created, model: ctx.requestedModel, choices: [], usage: mapped.usage });
      }
      return out;
    },
    finish: () => [],
    billableUsage: () => billable,
  };
}
