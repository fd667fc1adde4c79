// Responses API SSE events → chat.completion.chunk, as one state machine.
// Tool calls are keyed by output_index (item ids are not stable everywhere: GitHub Copilot's proxy
// rotates them on every event) and numbered 0, 1, 2… in the order they start. The terminal
// response.completed / response.incomplete gives the finish chunk and the usage chunk; `error` and
// response.failed throw. Server-side tool events have no chat form and are reported once each.

import type {
  BillableUsage,
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  SseEvent,
  StreamTranslator,
  TranslateContext,
} from '../types.js';
import { mapResponsesFailure } from './map-error.js';
import { mapFinishReason } from './map-finish-reason.js';
import { toBillableUsage, toChatUsage } from './map-usage.js';
import { declaresParallelTool, expandParallelWrapper, PARALLEL_WRAPPER_NAME } from './parallel-wrapper.js';
import { chatCompletionId, REASONING_SEPARATOR } from './parse-response.js';
import type { ResponsesFailure, ResponsesOutputItem, ResponsesResponse, ResponsesUsage } from './wire-types.js';

interface StreamPayload {
  type?: string;
  response?: ResponsesResponse;
  item?: ResponsesOutputItem;
  item_id?: string;
  output_index?: number;
  content_index?: number;
  summary_index?: number;
  delta?: string;
  text?: string;
  arguments?: string;
  error?: ResponsesFailure;
  code?: string | null;
  message?: string;
  param?: string | null;
}

interface ToolCallState {
  callId: string;
  name: string;
  /** Ordinal chat index; undefined while a `parallel` wrapper is buffered (its calls get indices on expansion). */
  index?: number;
  arguments: string;
  done: boolean;
}

/** Events that only repeat what the deltas already carried. */
const REDUNDANT_EVENTS = new Set([
  'response.content_part.added',
  'response.content_part.done',
  'response.refusal.done',
  'response.reasoning_summary_part.added',
  'response.reasoning_summary_part.done',
  'response.reasoning_summary_text.done',
  'response.reasoning_text.done',
]);

class ResponsesStreamTranslator implements StreamTranslator {
  private id?: string;
  private created?: number;
  private started = false;
  private ended = false;
  private expandWrapper = true;
  private readonly calls = new Map<string, ToolCallState>();
  /** Text streamed so far per content part, to check it against the part's .done event. */
  private readonly texts = new Map<string, string>();
  private nextToolIndex = 0;
  private hasRefusal = false;
  private reasoningSegment?: string;
  private usage?: ResponsesUsage;
  private readonly reported = new Set<string>();

  constructor(private readonly ctx: TranslateContext) {}

  push(event: SseEvent): ChatCompletionChunk[] {
    if (this.ended) {
      this.dropOnce('event after the response ended', { event: event.event });
      return [];
    }
    let payload: StreamPayload;
    try {
      payload = JSON.parse(event.data) as StreamPayload;
    } catch {
      this.dropOnce('unparseable event', { event: event.event, data: event.data.slice(0, 200) });
      return [];
    }
    const type = payload.type ?? event.event ?? '';
    switch (type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
        this.remember(payload.response);
        return this.start();
      case 'response.output_item.added':
        return this.itemAdded(payload);
      case 'response.output_item.done':
        return payload.item?.type === 'function_call' ? this.completeCall(payload, payload.item.arguments) : [];
      case 'response.function_call_arguments.delta':
        return this.argumentsDelta(payload);
      case 'response.function_call_arguments.done':
        return this.completeCall(payload, payload.arguments);
      case 'response.output_text.delta':
        return this.text(payload, payload.delta ?? '');
      case 'response.output_text.done':
        return this.textDone(payload);
      case 'response.refusal.delta':
        if (!payload.delta) return [];
        this.hasRefusal = true;
        return this.emit({ refusal: payload.delta });
      case 'response.reasoning_summary_text.delta':
        return this.reasoning(`${payload.output_index}:summary:${payload.summary_index}`, payload.delta);
      case 'response.reasoning_text.delta':
        return this.reasoning(`${payload.output_index}:content:${payload.content_index}`, payload.delta);
      case 'response.output_text.annotation.added':
        this.dropOnce('output_text annotations');
        return [];
      case 'response.completed':
      case 'response.incomplete':
        return this.end(payload.response);
      case 'response.failed':
        this.ended = true;
        throw mapResponsesFailure(payload.response?.error ?? { message: 'The upstream response failed.' });
      case 'error':
        this.ended = true;
        throw mapResponsesFailure(payload.error ?? { code: payload.code, message: payload.message, param: payload.param });
      default:
        if (!REDUNDANT_EVENTS.has(type)) this.dropOnce(`event ${type}`);
        return [];
    }
  }

  finish(): ChatCompletionChunk[] {
    if (this.ended) return [];
    this.dropOnce('terminal event', { reason: 'the stream ended without response.completed' });
    return this.end(undefined);
  }

  billableUsage(): BillableUsage | undefined {
    return this.usage ? toBillableUsage(this.usage) : undefined;
  }

  private remember(response: ResponsesResponse | undefined): void {
    if (!response) return;
    this.id ??= response.id;
    this.created ??= response.created_at;
    if (response.tools) this.expandWrapper = !declaresParallelTool(response.tools);
  }

  private chunk(delta: ChunkDelta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    // Frozen by the first chunk: every chunk of one answer carries the same id and created.
    this.id ??= `responses-${Math.random().toString(36).slice(2, 12)}`;
    this.created ??= Math.floor(Date.now() / 1000);
    return {
      id: chatCompletionId(this.id),
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.ctx.requestedModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }

  private start(): ChatCompletionChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private emit(...deltas: ChunkDelta[]): ChatCompletionChunk[] {
    return [...this.start(), ...deltas.map((delta) => this.chunk(delta))];
  }

  private text(payload: StreamPayload, delta: string): ChatCompletionChunk[] {
    const part = `${payload.output_index}:${payload.content_index}`;
    this.texts.set(part, (this.texts.get(part) ?? '') + delta);
    return delta ? this.emit({ content: delta }) : [];
  }

  /** The .done event carries the whole part: send what the deltas did not (a proxy may send none). */
  private textDone(payload: StreamPayload): ChatCompletionChunk[] {
    const streamed = this.texts.get(`${payload.output_index}:${payload.content_index}`) ?? '';
    const full = payload.text ?? streamed;
    if (full.startsWith(streamed)) return this.text(payload, full.slice(streamed.length));
    this.ctx.onDrop('output_text.done that contradicts the streamed deltas', { output_index: payload.output_index });
    return [];
  }

  private reasoning(segment: string, delta: string | undefined): ChatCompletionChunk[] {
    if (!delta) return [];
    // Separate summary parts and reasoning items exactly as parse-response joins them.
    const separator = this.reasoningSegment !== undefined && this.reasoningSegment !== segment ? REASONING_SEPARATOR : '';
    this.reasoningSegment = segment;
    return this.emit({ reasoning_content: separator + delta });
  }

  private callOf(payload: StreamPayload): ToolCallState | undefined {
    if (typeof payload.output_index === 'number') {
      const byIndex = this.calls.get(`output:${payload.output_index}`);
      if (byIndex) return byIndex;
    }
    return payload.item_id ? this.calls.get(`item:${payload.item_id}`) : undefined;
  }

  private itemAdded(payload: StreamPayload): ChatCompletionChunk[] {
    const item = payload.item;
    if (item?.type === 'message' || item?.type === 'reasoning') return [];
    if (item?.type !== 'function_call') {
      this.dropOnce(`output item ${item?.type}`, { reason: 'server-side tool output has no chat form' });
      return [];
    }
    const call: ToolCallState = { callId: item.call_id ?? item.id ?? '', name: item.name ?? '', arguments: '', done: false };
    if (typeof payload.output_index === 'number') this.calls.set(`output:${payload.output_index}`, call);
    if (item.id) this.calls.set(`item:${item.id}`, call);
    // The wrapper's calls are only known once its arguments are complete: buffer until then.
    if (this.expandWrapper && call.name === PARALLEL_WRAPPER_NAME) return this.start();
    return [...this.openCall(call), ...(item.arguments ? this.appendArguments(call, item.arguments) : [])];
  }

  private openCall(call: ToolCallState): ChatCompletionChunk[] {
    call.index = this.nextToolIndex++;
    return this.emit({
      tool_calls: [{ index: call.index, id: call.callId, type: 'function', function: { name: call.name, arguments: '' } }],
    });
  }

  private appendArguments(call: ToolCallState, fragment: string): ChatCompletionChunk[] {
    call.arguments += fragment;
    if (call.index === undefined || !fragment) return [];
    return this.emit({ tool_calls: [{ index: call.index, function: { arguments: fragment } }] });
  }

  private argumentsDelta(payload: StreamPayload): ChatCompletionChunk[] {
    const call = this.callOf(payload);
    if (!call) {
      this.dropOnce('arguments for an unknown function call', { item_id: payload.item_id });
      return [];
    }
    if (call.done) return [];
    return this.appendArguments(call, payload.delta ?? '');
  }

  /** `.done` events carry the whole arguments: send what the deltas did not (some proxies send no deltas). */
  private completeCall(payload: StreamPayload, finalArguments: string | undefined): ChatCompletionChunk[] {
    const call = this.callOf(payload);
    if (!call || call.done) return [];
    call.done = true;
    const full = finalArguments ?? call.arguments;
    if (call.index === undefined) return this.flushWrapper(call, full);
    if (full.startsWith(call.arguments)) {
      const rest = full.slice(call.arguments.length) || (call.arguments === '' ? '{}' : '');
      return this.appendArguments(call, rest);
    }
    this.ctx.onDrop('function call arguments that contradict the streamed ones', { call_id: call.callId });
    return [];
  }

  private flushWrapper(call: ToolCallState, args: string): ChatCompletionChunk[] {
    call.done = true;
    const expanded = expandParallelWrapper(call.callId, args || '{}');
    if (!expanded) return [...this.openCall(call), ...this.appendArguments(call, args || '{}')];
    return expanded.flatMap((wrapped) => {
      const index = this.nextToolIndex++;
      return this.emit(
        { tool_calls: [{ index, id: wrapped.id, type: 'function', function: { name: wrapped.function.name, arguments: '' } }] },
        { tool_calls: [{ index, function: { arguments: wrapped.function.arguments } }] },
      );
    });
  }

  private end(response: ResponsesResponse | undefined): ChatCompletionChunk[] {
    const chunks = this.start();
    this.remember(response);
    // A wrapper whose .done never came (a cut stream) is still delivered from what was buffered.
    for (const call of new Set(this.calls.values())) {
      if (call.index === undefined && !call.done) chunks.push(...this.flushWrapper(call, call.arguments));
    }
    this.ended = true;
    const finishReason = mapFinishReason({
      status: response?.status,
      incompleteReason: response?.incomplete_details?.reason,
      hasToolCalls: this.nextToolIndex > 0,
      hasRefusal: this.hasRefusal,
    });
    chunks.push(this.chunk({}, finishReason));
    if (response?.usage) {
      this.usage = response.usage;
      chunks.push({ ...this.chunk({}), choices: [], usage: toChatUsage(response.usage) });
    }
    return chunks;
  }

  private dropOnce(what: string, detail?: unknown): void {
    if (this.reported.has(what)) return;
    this.reported.add(what);
    this.ctx.onDrop(what, detail);
  }
}

export function createResponsesStreamTranslator(ctx: TranslateContext): StreamTranslator {
  return new ResponsesStreamTranslator(ctx);
}
