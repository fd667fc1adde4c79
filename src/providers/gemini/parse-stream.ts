// streamGenerateContent?alt=sse → chat.completion.chunk. Each event is a whole GenerateContentResponse
// fragment: text parts are deltas, function calls arrive whole (or, on Vertex with
// streamFunctionCallArguments, as path/value fragments assembled here), usageMetadata is cumulative
// and the stream simply ends when the connection closes.

import type {
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  SseEvent,
  StreamTranslator,
  TranslateContext,
  BillableUsage,
} from '../types.js';
import { googleError, googleErrorOf } from './map-error.js';
import { mapFinishReason, promptBlockReason } from './map-finish-reason.js';
import { hasTokenCounts, mapBillableUsage, mapUsage, type GeminiUsageMetadata } from './map-usage.js';
import {
  argumentsJson,
  completionId,
  mapLogprobs,
  readPart,
  toolCallId,
  type GeminiCandidate,
  type GeminiFunctionCall,
  type GeminiPartialArg,
  type GeminiResponse,
} from './response-types.js';

interface PendingCall {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

interface ChoiceState {
  /** Tool calls emitted for this choice: the next one's `index`. */
  toolCalls: number;
  finished: boolean;
  pending?: PendingCall;
}

/** `$.a.b[0]['c']` → ['a', 'b', 0, 'c']. */
function pathSegments(jsonPath: string): Array<string | number> | undefined {
  if (!jsonPath.startsWith('$')) return undefined;
  const segments: Array<string | number> = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\[['"]([^'"]*)['"]\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < jsonPath.length) {
    const m = re.exec(jsonPath);
    if (!m) return undefined;
    segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3]));
  }
  return segments;
}

/** Applies one Vertex argument fragment; string fragments of one value append. */
export function applyPartialArg(args: Record<string, unknown>, fragment: GeminiPartialArg): boolean {
  const segments = fragment.jsonPath ? pathSegments(fragment.jsonPath) : undefined;
  if (!segments || segments.length === 0) return false;
  let node: any = args;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = typeof segments[i + 1] === 'number' ? [] : {};
    node = node[key];
  }
  const last = segments.at(-1)!;
  if (fragment.stringValue !== undefined) node[last] = (typeof node[last] === 'string' ? node[last] : '') + fragment.stringValue;
  else if (fragment.numberValue !== undefined) node[last] = fragment.numberValue;
  else if (fragment.boolValue !== undefined) node[last] = fragment.boolValue;
  else if ('nullValue' in fragment) node[last] = null;
  else return false;
  return true;
}

export function createGeminiStreamTranslator(ctx: TranslateContext): StreamTranslator {
  const created = Math.floor(Date.now() / 1000);
  let id: string | undefined;
  let responseId: string | undefined;
  let callNumber = 0;
  let usage: GeminiUsageMetadata | undefined;
  let signatureReported = false;
  const choices = new Map<number, ChoiceState>();

  const chunk = (index: number, delta: ChunkDelta, finish: FinishReason | null = null, logprobs?: unknown): ChatCompletionChunk => ({
    id: (id ??= completionId(responseId)),
    object: 'chat.completion.chunk',
    created,
    model: ctx.requestedModel,
    choices: [{ index, delta, ...(logprobs ? { logprobs } : {}), finish_reason: finish }],
  });

  /** The first chunk of a choice says who speaks; OpenAI's stream() helper insists on it. */
  const stateOf = (index: number, out: ChatCompletionChunk[]): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      choices.set(index, state);
      out.push(chunk(index, { role: 'assistant', content: '' }));
    }
    return state;
  };

  const emitCall = (index: number, state: ChoiceState, call: PendingCall, out: ChatCompletionChunk[]) => {
    const toolIndex = state.toolCalls++;
    const callId = toolCallId(responseId, callNumber++, call.id);
    out.push(chunk(index, { tool_calls: [{ index: toolIndex, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] }));
    out.push(chunk(index, { tool_calls: [{ index: toolIndex, function: { arguments: argumentsJson(call.args) } }] }));
  };

  const flushPending = (index: number, state: ChoiceState, out: ChatCompletionChunk[]) => {
    if (state.pending) emitCall(index, state, state.pending, out);
    state.pending = undefined;
  };

  const onCall = (index: number, state: ChoiceState, call: GeminiFunctionCall, out: ChatCompletionChunk[]) => {
    if (call.name) {
      flushPending(index, state, out);
      const pending: PendingCall = { id: call.id, name: call.name, args: { ...(call.args ?? {}) } };
      for (const fragment of call.partialArgs ?? []) applyPartialArg(pending.args, fragment);
      if (call.willContinue === true) state.pending = pending;
      else emitCall(index, state, pending, out);
      return;
    }
    if (!state.pending) {
      if (call.partialArgs?.length) ctx.onDrop('functionCall fragment', 'arguments without a call to belong to');
      return;
    }
    for (const fragment of call.partialArgs ?? []) {
      if (!applyPartialArg(state.pending.args, fragment)) ctx.onDrop('functionCall fragment', { jsonPath: fragment.jsonPath });
    }
    // A fragment without willContinue (or the empty terminal `{}`) closes the call.
    if (call.willContinue !== true) flushPending(index, state, out);
  };

  const finishChoice = (index: number, state: ChoiceState, reason: FinishReason, out: ChatCompletionChunk[]) => {
    flushPending(index, state, out);
    state.finished = true;
    out.push(chunk(index, {}, reason));
  };

  const onCandidate = (candidate: GeminiCandidate, position: number, out: ChatCompletionChunk[]) => {
    const index = candidate.index ?? position;
    const state = stateOf(index, out);
    if (state.finished) {
      if (candidate.content?.parts?.some((p) => readPart(p).kind !== 'empty')) ctx.onDrop('content after finishReason', { index });
      return;
    }
    for (const part of candidate.content?.parts ?? []) {
      if (part.thoughtSignature && !signatureReported) {
        signatureReported = true;
        ctx.onDrop('thoughtSignature', 'OpenAI clients cannot carry it back');
      }
      const read = readPart(part);
      if (read.kind === 'text') out.push(chunk(index, { content: read.text }, null, mapLogprobs(candidate.logprobsResult)));
      else if (read.kind === 'thought') out.push(chunk(index, { reasoning_content: read.text }));
      else if (read.kind === 'call') onCall(index, state, read.call, out);
      else if (read.kind === 'unknown') ctx.onDrop('response part', { keys: read.keys });
    }
    if (candidate.finishReason) {
      const sawToolCall = state.toolCalls > 0 || state.pending !== undefined;
      const reason = mapFinishReason(candidate.finishReason, sawToolCall, (r) => ctx.onDrop('finishReason', { reason: r, message: candidate.finishMessage }));
      finishChoice(index, state, reason, out);
    }
  };

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (data === '' || data === '[DONE]') return [];
      let payload: GeminiResponse;
      try {
        payload = JSON.parse(data) as GeminiResponse;
      } catch {
        ctx.onDrop('stream event', { reason: 'not JSON', data: data.slice(0, 200) });
        return [];
      }
      const error = googleErrorOf(payload);
      if (error) throw googleError(undefined, error);
      if (typeof payload !== 'object' || payload === null) {
        ctx.onDrop('stream event', { reason: 'not an object' });
        return [];
      }

      responseId ??= payload.responseId;
      if (hasTokenCounts(payload.usageMetadata)) usage = payload.usageMetadata;
      const out: ChatCompletionChunk[] = [];
      const blocked = promptBlockReason(payload);
      if (blocked) {
        ctx.onDrop('promptFeedback', { blockReason: blocked, message: payload.promptFeedback?.blockReasonMessage });
        const state = stateOf(0, out);
        if (!state.finished) finishChoice(0, state, 'content_filter', out);
        return out;
      }
      (payload.candidates ?? []).forEach((candidate, position) => onCandidate(candidate, position, out));
      return out;
    },

    finish(): ChatCompletionChunk[] {
      const out: ChatCompletionChunk[] = [];
      // A stream that ended without a finishReason still owes its client a finish chunk.
      if (choices.size === 0) stateOf(0, out);
      for (const [index, state] of [...choices.entries()].sort((a, b) => a[0] - b[0])) {
        if (!state.finished) finishChoice(index, state, mapFinishReason(undefined, state.toolCalls > 0 || state.pending !== undefined), out);
      }
      if (usage) {
        out.push({ id: (id ??= completionId(responseId)), object: 'chat.completion.chunk', created, model: ctx.requestedModel, choices: [], usage: mapUsage(usage) });
      }
      return out;
    },

    billableUsage(): BillableUsage | undefined {
      return usage ? mapBillableUsage(usage) : undefined;
    },
  };
}
