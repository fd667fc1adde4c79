// The chat pipeline: prepare (model, checks, reservation) → route (retries, fallbacks) → collect or
// stream through the adapter → settle exactly once. Both entry points end in settle() whatever happens.

import type { BillableUsage, ChatCompletion, ChatCompletionChunk, ChatRequest, SseEvent, TranslateContext, Usage } from '../providers/types.js';
import { ProviderError } from '../providers/types.js';
import { completionToChunks } from '../providers/openai-responses/synthesize-chunks.js';
import { countTextTokens } from '../billing/estimate-tokens.js';
import { trackCall, type CallerKey, type Gateway } from './gateway.js';
import { GatewayError, upstreamFailure, upstreamTimeout } from './errors.js';
import { prepareCall } from './prepare.js';
import type { CallAbort, CancelSignal } from './call-abort.js';
import { callUpstream } from './route.js';
import { SseParser } from './sse-parser.js';
import { settle, type Outcome } from './settle.js';
import { UpstreamTransportError, classifyTransportError } from './upstream-client.js';

export interface ChatCall {
  requestId: string;
  key: CallerKey;
  request: ChatRequest;
  /** Aborted when the client goes away, and by the pipeline itself at the total timeout. */
  abort: CallAbort;
}

function translateContext(gw: Gateway, call: ChatCall): TranslateContext {
  return {
    requestedModel: call.request.model,
    model: gw.catalog.get(call.request.model)?.entry,
    onDrop: (what, detail) => gw.log.debug({ requestId: call.requestId, dropped: what, detail }, 'untranslatable upstream content dropped'),
  };
}

/** An upstream answer the adapter could not read (not JSON, not the expected shape): the upstream's fault. */
class UnreadableUpstream extends Error {}

/** Marks the outcome failed, for its usage record, and returns the error the client gets. */
function recordFailure(outcome: Outcome, failure: { gatewayError: GatewayError; status: Outcome['status'] }): GatewayError {
  outcome.status = failure.status;
  outcome.httpStatus = failure.gatewayError.status;
  outcome.errorCode = failure.gatewayError.error.code;
  return failure.gatewayError;
}

function failureOf(gw: Gateway, call: ChatCall, err: unknown, totalTimedOut: boolean): { gatewayError: GatewayError; status: Outcome['status'] } {
  if (totalTimedOut) return { gatewayError: upstreamTimeout('The upstream provider did not finish in time.'), status: 'timeout' };
  if (call.abort.aborted) return { gatewayError: upstreamFailure('The request was aborted.'), status: 'aborted' };
  if (err instanceof UpstreamTransportError || (err as Error)?.name === 'AbortError' || (err as { code?: string })?.code?.startsWith?.('UND_ERR')) {
    const t = classifyTransportError(err);
    if (t.kind === 'aborted') return { gatewayError: upstreamFailure('The request was aborted.'), status: 'aborted' };
    if (t.kind === 'timeout') return { gatewayError: upstreamTimeout('The upstream provider stopped answering.'), status: 'timeout' };
    return { gatewayError: upstreamFailure('The upstream connection failed.'), status: 'error' };
  }
  if (err instanceof UnreadableUpstream || err instanceof SyntaxError) {
    gw.log.warn({ requestId: call.requestId, err }, 'unreadable upstream answer');
    return { gatewayError: upstreamFailure('The upstream provider sent an answer that could not be read.'), status: 'error' };
  }
  const gatewayError = GatewayError.from(err);
  return { gatewayError, status: gatewayError.error.code === 'upstream_timeout' ? 'timeout' : 'error' };
}

/**
 * The total timeout, on the call's own controller (one per request: the client going away aborts it
 * too). A plain timer cleared by dispose(), so a finished request leaves nothing behind
 * (AbortSignal.timeout would keep its signal alive for the whole timeout, which grows memory under load).
 */
function callSignal(gw: Gateway, call: ChatCall): { signal: CancelSignal; timedOut: () => boolean; dispose: () => void } {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    call.abort.abort(new UpstreamTransportError('timeout', 'total timeout reached'));
  }, gw.config.timeouts.totalMs);
  timer.unref();
  return { signal: call.abort, timedOut: () => timedOut, dispose: () => clearTimeout(timer) };
}

function parseWhole<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof GatewayError || err instanceof ProviderError) throw err;
    throw new UnreadableUpstream((err as Error)?.message);
  }
}

export async function completeChat(gw: Gateway, call: ChatCall): Promise<ChatCompletion> {
  const outcome: Outcome = {
    requestId: call.requestId, keyId: call.key.id, requestedModel: call.request.model,
    estimated: false, status: 'error', httpStatus: 500, stream: false, startedAt: Date.now(),
  };
  const settled = trackCall(gw);
  const { signal, timedOut, dispose } = callSignal(gw, call);
  try {
    const prepared = await prepareCall(gw, call.key, call.request);
    outcome.reservation = prepared.reservation;
    outcome.served = prepared.model.entry;
    const attempt = await callUpstream(gw, prepared.model, prepared.request, false, signal);
    outcome.served = attempt.served.entry;
    outcome.deployment = attempt.deployment;
    const body = await attempt.response.body.json();
    const { completion, billable } = parseWhole(() => attempt.adapter.parseResponse(body, translateContext(gw, call)));
    completion.model = call.request.model;
    outcome.billable = billable;
    outcome.status = 'ok';
    outcome.httpStatus = 200;
    return completion;
  } catch (err) {
    throw recordFailure(outcome, failureOf(gw, call, err, timedOut()));
  } finally {
    dispose();
    settled(settle(gw, outcome));
  }
}

/** What a stream produced so far, to bill it when the upstream sent no usage. */
class ProducedText {
  private text = '';
  add(chunk: ChatCompletionChunk): void {
    for (const choice of chunk.choices) {
      const d = choice.delta;
      if (d.content) this.text += d.content;
      if (d.reasoning_content) this.text += d.reasoning_content;
      if (d.refusal) this.text += d.refusal;
      for (const call of d.tool_calls ?? []) this.text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
    }
  }
  estimate(promptTokens: number): BillableUsage {
    const output = countTextTokens(this.text);
    return { inputTokens: promptTokens, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: output, reasoningTokens: 0, promptTokens };
  }
}

function usageOf(b: BillableUsage): Usage {
  const prompt = b.inputTokens + b.cachedInputTokens + b.cacheWrite5mTokens + b.cacheWrite1hTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: b.outputTokens,
    total_tokens: prompt + b.outputTokens,
    prompt_tokens_details: { cached_tokens: b.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: b.reasoningTokens },
  };
}

/**
 * Streams chunks for one request, in batches: the chunks of one upstream network read together (one
 * async step per read, not per chunk). Errors thrown before the first batch become an HTTP error
 * response; after it, the caller ends the stream with an error event. Nothing is retried after the first batch.
 */
export async function* streamChat(gw: Gateway, call: ChatCall): AsyncGenerator<ChatCompletionChunk[]> {
  const outcome: Outcome = {
    requestId: call.requestId, keyId: call.key.id, requestedModel: call.request.model,
    estimated: false, status: 'error', httpStatus: 500, stream: true, startedAt: Date.now(),
  };
  const settled = trackCall(gw);
  const { signal, timedOut, dispose } = callSignal(gw, call);
  const includeUsage = call.request.stream_options?.include_usage === true;
  const produced = new ProducedText();
  let promptEstimate = 0;
  let sentUsage = false;
  let billableOf: () => BillableUsage | undefined = () => undefined;
  const streamId = `chatcmpl-${call.requestId.replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const stamp = (chunk: ChatCompletionChunk): ChatCompletionChunk => {
    chunk.id = streamId;
    chunk.created = created;
    chunk.model = call.request.model;
    return chunk;
  };
  gw.metrics.openStreams.inc();
  try {
    const prepared = await prepareCall(gw, call.key, call.request);
    promptEstimate = prepared.promptTokensEstimate;
    outcome.reservation = prepared.reservation;
    outcome.served = prepared.model.entry;
    const attempt = await callUpstream(gw, prepared.model, prepared.request, true, signal);
    outcome.served = attempt.served.entry;
    outcome.deployment = attempt.deployment;
    const ctx = translateContext(gw, call);
    let finished = false;
    /** The chunks of one batch the client gets: usage where asked for, our id, time and model on each. */
    const deliverable = (batch: ChatCompletionChunk[]): ChatCompletionChunk[] => {
      const out: ChatCompletionChunk[] = [];
      for (const chunk of batch) {
        if (chunk.choices.length === 0 && chunk.usage) {
          if (!includeUsage || sentUsage) continue;
          sentUsage = true;
        } else {
          produced.add(chunk);
          if (chunk.usage !== undefined) delete chunk.usage;
          if (!finished) finished = chunk.choices.some((c) => c.finish_reason);
        }
        out.push(stamp(chunk));
      }
      if (out.length) outcome.firstTokenAt ??= Date.now();
      return out;
    };
    if (attempt.streamed) {
      const translator = attempt.adapter.createStreamTranslator(ctx);
      billableOf = () => translator.billableUsage();
      let translated = 0;
      // An event the adapter throws on (an upstream error payload) ends the stream, but only after the
      // chunks of the same read that came before it: the client gets those, and they are billed.
      let failure: unknown;
      const translate = (events: SseEvent[]): ChatCompletionChunk[] => {
        const out: ChatCompletionChunk[] = [];
        try {
          for (const event of events) for (const chunk of translator.push(event)) out.push(chunk);
        } catch (err) {
          failure = err;
        }
        translated += out.length;
        return deliverable(out);
      };
      // One loop over the upstream's reads, in this generator itself. A nested generator per stream is
      // one more suspended generator and pending promise held by every stream in flight, which each
      // young-generation collection copies: removing it with the body's own generator halved the
      // scavenge time of a c=16 streaming load.
      const sse = new SseParser();
      for await (const piece of attempt.stream) {
        const out = translate(sse.push(piece));
        if (out.length) yield out;
        if (failure) throw failure;
      }
      const last = translate(sse.end());
      if (failure) {
        if (last.length) yield last;
        throw failure;
      }
      // Nothing readable in the whole stream (not SSE, or no event the adapter understood): an upstream
      // failure, not an empty answer the adapter's finish() would dress up as one.
      if (translated === 0) throw new UnreadableUpstream('the upstream stream held no readable event');
      const rest = [...last, ...deliverable(translator.finish())];
      if (rest.length) yield rest;
    } else {
      const whole = await attempt.response.body.json();
      const parsed = parseWhole(() => attempt.adapter.parseResponse(whole, ctx));
      billableOf = () => parsed.billable;
      const out = deliverable(completionToChunks(parsed.completion));
      if (out.length) yield out;
    }
    // An upstream stream that closed without a finish reason was cut short (or was never a stream: malformed
    // SSE): the client must not take a partial answer for a whole one, so it ends with an error, not [DONE].
    if (!finished) throw new UnreadableUpstream('the upstream stream ended before a finish reason');
    outcome.billable = billableOf();
    if (!outcome.billable) {
      outcome.billable = produced.estimate(promptEstimate);
      outcome.estimated = true;
    }
    if (includeUsage && !sentUsage) {
      yield [stamp({ id: streamId, object: 'chat.completion.chunk', created, model: call.request.model, choices: [], usage: usageOf(outcome.billable) })];
    }
    outcome.status = 'ok';
    outcome.httpStatus = 200;
  } catch (err) {
    throw recordFailure(outcome, failureOf(gw, call, err, timedOut()));
  } finally {
    dispose();
    gw.metrics.openStreams.dec();
    if (!outcome.billable && outcome.firstTokenAt) {
      // Cut short (client gone, upstream error, timeout): bill what the upstream produced, by its own
      // usage when it sent one before the cut, else by counting the streamed text.
      const reported = billableOf();
      const counted = produced.estimate(reported?.promptTokens || promptEstimate);
      outcome.billable = reported && reported.outputTokens >= counted.outputTokens ? reported : { ...(reported ?? counted), outputTokens: counted.outputTokens };
      outcome.estimated = outcome.billable !== reported;
    }
    settled(settle(gw, outcome));
  }
}
