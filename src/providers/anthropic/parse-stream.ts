// Anthropic Messages SSE events → OpenAI chat.completion.chunk, as one state machine.
//
//   message_start        → the role chunk; id and input/cache usage remembered
//   content_block_start  → text / thinking: its initial text if any; tool_use: the tool call's first
//                          delta (index k = how many tool_use blocks came before, never the block index,
//                          which also counts text and thinking blocks)
//   content_block_delta  → text_delta → content, thinking_delta → reasoning_content,
//                          input_json_delta → argument fragments; signature_delta kept nowhere
//   content_block_stop   → a tool call that got no argument fragment gets "{}" (or its start input)
//   message_delta        → the finish chunk; cumulative usage merged
//   message_stop         → the usage chunk (choices: [])
//   ping                 → nothing;   error → ProviderError thrown
// Anything after message_stop, and block types without an equivalent (server tools, compaction,
// redacted thinking, citations), is dropped and reported once per kind.

import type { BillableUsage, ChatCompletionChunk, ChunkDelta, FinishReason, SseEvent, StreamTranslator, TranslateContext } from '../types.js';
import { upstreamError } from '../shared/upstream-error.js';
import { mapAnthropicStreamError } from './map-error.js';
import { mapFinishReason } from './map-finish-reason.js';
import { mergeUsage, toBillableUsage, toOpenAIUsage } from './map-usage.js';
import { argumentsOf, completionId } from './parse-response.js';
import type { MessagesUsage } from './wire-types.js';

interface BlockState {
  type: string;
  /** tool_use only: the OpenAI tool-call index. */
  toolIndex?: number;
  /** tool_use only: whether an argument fragment was emitted. */
  sentArguments?: boolean;
  /** tool_use only: the input given whole in content_block_start (programmatic tool calls do this). */
  startInput?: unknown;
}

export function createAnthropicStreamTranslator(ctx: TranslateContext): StreamTranslator {
  let id: string | undefined;
  let created = Math.floor(Date.now() / 1000);
  let roleSent = false;
  let finishSent = false;
  let usageSent = false;
  let stopped = false;
  let usage: MessagesUsage | undefined;
  let stopReason: string | null | undefined;
  let toolCount = 0;
  let reasoningSent = false;
  const blocks = new Map<number, BlockState>();
  const reported = new Set<string>();

  const dropOnce = (what: string, detail?: unknown) => {
    if (reported.has(what)) return;
    reported.add(what);
    ctx.onDrop(what, detail);
  };

  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: (id ??= completionId(undefined)),
    object: 'chat.completion.chunk',
    created,
    model: ctx.requestedModel,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });

  const roleChunk = (out: ChatCompletionChunk[]) => {
    if (roleSent) return;
    roleSent = true;
    out.push(chunk({ role: 'assistant', content: '' }));
  };

  /** Every delta is preceded by the role chunk, even if message_start went missing. */
  const emit = (out: ChatCompletionChunk[], delta: ChunkDelta, finish: FinishReason | null = null) => {
    roleChunk(out);
    out.push(chunk(delta, finish));
  };

  const finishChunk = (out: ChatCompletionChunk[]) => {
    if (finishSent) return;
    finishSent = true;
    emit(out, {}, mapFinishReason(stopReason, ctx.onDrop));
  };

  const usageChunk = (out: ChatCompletionChunk[]) => {
    if (usageSent || !usage) return;
    usageSent = true;
    out.push({ ...chunk({}), choices: [], usage: toOpenAIUsage(usage) });
  };

  function onBlockStart(event: any, out: ChatCompletionChunk[]) {
    const index = Number(event.index);
    const block = event.content_block ?? {};
    const type = String(block.type);
    if (type === 'text') {
      blocks.set(index, { type });
      if (typeof block.text === 'string' && block.text !== '') emit(out, { content: block.text });
    } else if (type === 'thinking') {
      blocks.set(index, { type });
      // Separate consecutive thinking blocks as the non-streaming parser joins them.
      if (reasoningSent) emit(out, { reasoning_content: '\n\n' });
      if (typeof block.thinking === 'string' && block.thinking !== '') {
        emit(out, { reasoning_content: block.thinking });
        reasoningSent = true;
      }
    } else if (type === 'tool_use') {
      const toolIndex = toolCount++;
      blocks.set(index, { type, toolIndex, sentArguments: false, startInput: block.input });
      emit(out, { tool_calls: [{ index: toolIndex, id: String(block.id ?? ''), type: 'function', function: { name: String(block.name ?? ''), arguments: '' } }] });
    } else {
      blocks.set(index, { type: `dropped:${type}` });
      dropOnce(`content block ${type}`, { reason: 'no chat-completions equivalent' });
    }
  }

  function onBlockDelta(event: any, out: ChatCompletionChunk[]) {
    const block = blocks.get(Number(event.index));
    const delta = event.delta ?? {};
    if (!block) {
      dropOnce('content_block_delta without content_block_start', { index: event.index });
      return;
    }
    if (block.type.startsWith('dropped:')) return;
    if (delta.type === 'text_delta' && block.type === 'text') {
      if (typeof delta.text === 'string' && delta.text !== '') emit(out, { content: delta.text });
    } else if (delta.type === 'thinking_delta' && block.type === 'thinking') {
      if (typeof delta.thinking === 'string' && delta.thinking !== '') {
        emit(out, { reasoning_content: delta.thinking });
        reasoningSent = true;
      }
    } else if (delta.type === 'input_json_delta' && block.type === 'tool_use') {
      // The first fragment is often "": skip it, a chunk with nothing in it only costs clients work.
      if (typeof delta.partial_json === 'string' && delta.partial_json !== '') {
        block.sentArguments = true;
        emit(out, { tool_calls: [{ index: block.toolIndex!, function: { arguments: delta.partial_json } }] });
      }
    } else if (delta.type === 'signature_delta') {
      // Thinking signatures are only useful to replay thinking, which OpenAI clients cannot do.
    } else {
      dropOnce(`content delta ${delta.type}`, { block: block.type, reason: 'no chat-completions equivalent' });
    }
  }

  function onBlockStop(event: any, out: ChatCompletionChunk[]) {
    const block = blocks.get(Number(event.index));
    if (block?.type === 'tool_use' && !block.sentArguments) {
      // No fragments at all: a tool without arguments ("{}"), or one whose input came whole at start.
      const input = block.startInput;
      const whole = input && typeof input === 'object' && Object.keys(input).length > 0 ? argumentsOf(input) : '{}';
      block.sentArguments = true;
      emit(out, { tool_calls: [{ index: block.toolIndex!, function: { arguments: whole } }] });
    }
  }

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      let payload: any;
      try {
        payload = JSON.parse(event.data);
      } catch {
        dropOnce('unparseable event', { data: event.data.slice(0, 200) });
        return [];
      }
      const type = typeof payload?.type === 'string' ? payload.type : event.event;
      if (type === 'error') throw mapAnthropicStreamError(payload);
      if (type === 'ping') return [];
      const out: ChatCompletionChunk[] = [];
      if (stopped) {
        // One HTTP response carries one message; nothing after message_stop belongs to this answer.
        dropOnce('event after message_stop', { type });
        return out;
      }
      switch (type) {
        case 'message_start': {
          const message = payload.message ?? {};
          usage = mergeUsage(usage, message.usage);
          if (roleSent) {
            dropOnce('repeated message_start');
            break;
          }
          id = completionId(message.id);
          created = Math.floor(Date.now() / 1000);
          roleChunk(out);
          break;
        }
        case 'content_block_start':
          onBlockStart(payload, out);
          break;
        case 'content_block_delta':
          onBlockDelta(payload, out);
          break;
        case 'content_block_stop':
          onBlockStop(payload, out);
          break;
        case 'message_delta':
          usage = mergeUsage(usage, payload.usage);
          if (payload.delta && 'stop_reason' in payload.delta) stopReason = payload.delta.stop_reason;
          finishChunk(out);
          break;
        case 'message_stop':
          stopped = true;
          finishChunk(out);
          usageChunk(out);
          break;
        default:
          dropOnce(`event ${type}`, { reason: 'unknown event type' });
      }
      return out;
    },

    finish(): ChatCompletionChunk[] {
      const out: ChatCompletionChunk[] = [];
      if (!finishSent) {
        // No message_delta: the stream was cut before the answer was complete. Ending it normally
        // would tell the client it has the whole answer.
        throw upstreamError(502, { message: 'The upstream stream ended before the answer was complete.', kind: 'server' });
      }
      usageChunk(out);
      stopped = true;
      return out;
    },

    billableUsage(): BillableUsage | undefined {
      return usage ? toBillableUsage(usage) : undefined;
    },
  };
}
