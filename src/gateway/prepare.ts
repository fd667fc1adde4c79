// Everything decided before any upstream is called: which model, whether this key may use it with
// this request, its rate limits, and a credit reservation for the worst case.
//
// Reservation size (DESIGN.md section 4): estimated prompt tokens (o200k tokenizer × a margin for other
// vendors' tokenizers) at the input price, plus the output cap × n at the output price. The output cap is
// max_completion_tokens / max_tokens, or the model's max output when the client sent neither. Prices
// are the highest among everything that may serve the request (every deployment of the model and of its
// fallbacks), so a fallback to a dearer model is covered too.
//
// When the client sent no output cap and the key cannot afford the model's full max output, the
// reservation is lowered to what the balance covers and that cap is sent upstream as
// max_completion_tokens: the request still runs, shorter, and the key still cannot overspend. An
// explicit cap the key cannot afford is refused with 402, since the client asked for that much.

import { adapters } from '../providers/index.js';
import type { ChatRequest, ProviderAdapter } from '../providers/types.js';
import type { ResolvedModel } from '../catalog/catalog.js';
import { reserveCredit, type Reservation } from '../billing/credit.js';
import { estimatePromptTokens } from '../billing/estimate-tokens.js';
import { inputNanoPerToken, nanoToUsd, outputNanoPerToken, pricingOf } from '../billing/prices.js';
import type { RateTicket } from '../billing/rate-limit.js';
import { settlementsOf, type CallerKey, type Gateway } from './gateway.js';
import { hasImages } from './inline-images.js';
import { insufficientQuota, invalidRequest, modelNotAllowed, modelNotFound, providerNotConfigured, rateLimited } from './errors.js';

/** Tokenizers differ between vendors by a few tens of percent: reserve for the larger count. */
const PROMPT_ESTIMATE_MARGIN = 1.3;
/** How long a refused reservation waits for the key's settlements in flight before it is refused for good. */
const SETTLEMENT_WAIT_MS = 2_000;
/** Then, while other reservations hold credit, the pauses before reading again (PostgreSQL). */
const HELD_CREDIT_RECHECKS_MS = [10, 20, 40];

export interface PreparedCall {
  model: ResolvedModel;
  adapter: ProviderAdapter;
  request: ChatRequest;
  /** The tokenizer's count of the prompt (no margin): what a stream without upstream usage is billed for. */
  promptTokensEstimate: number;
  reservation: Reservation;
  /** Set when the key's balance cannot cover the model's full output: the upstream is capped to this. */
  affordableOutputTokens?: number;
}

export function resolveModel(gw: Gateway, key: CallerKey, request: ChatRequest): ResolvedModel {
  const model = gw.catalog.get(request.model);
  if (!model) throw modelNotFound(request.model);
  if (key.models && !key.models.includes(request.model)) throw modelNotAllowed(request.model);
  checkCapabilities(model, request);
  if (!model.deployments.some((d) => d.apiKey)) throw providerNotConfigured(model.entry.provider);
  return model;
}

export function checkCapabilities(model: ResolvedModel, request: ChatRequest): void {
  const caps = model.entry.capabilities;
  if (!caps.vision && hasImages(request.messages)) {
    throw invalidRequest(`The model \`${request.model}\` does not support image input.`, 'messages', 'image_not_supported');
  }
  if (!caps.tools && request.tools?.length) {
    throw invalidRequest(`The model \`${request.model}\` does not support tools.`, 'tools', 'tools_not_supported');
  }
}

interface WorstCase {
  /** Nano-USD for the prompt at the dearest input price. */
  promptNano: number;
  /** Nano-USD per output token at the dearest output price (fractional). */
  perOutputNano: number;
  /** Output tokens per choice the upstream may produce when the client sets no cap. */
  maxOutput: number;
}

/** The dearest prices and largest output among every model and deployment that may serve the request. */
export function worstCase(gw: Gateway, model: ResolvedModel, promptTokens: number): WorstCase {
  const chain = gw.catalog.chainOf(model);
  let promptNano = 0;
  let perOutputNano = 0;
  let maxOutput = 0;
  for (const m of chain) {
    maxOutput = Math.max(maxOutput, m.entry.maxOutput);
    const deployments = m.deployments.filter((d) => d.apiKey);
    for (const d of deployments.length ? deployments : m.deployments) {
      const pricing = pricingOf(m.entry, d);
      promptNano = Math.max(promptNano, Math.ceil(promptTokens * inputNanoPerToken(pricing, promptTokens)));
      perOutputNano = Math.max(perOutputNano, outputNanoPerToken(pricing, promptTokens));
    }
  }
  return { promptNano, perOutputNano, maxOutput };
}

async function admit(gw: Gateway, key: CallerKey, promptTokens: number): Promise<RateTicket | undefined> {
  const admission = await gw.billing.limiter.admit(key.id, { rpm: key.rpmLimit, tpm: key.tpmLimit }, promptTokens);
  if (admission.ok) return admission.ticket;
  if (admission.tooLarge) {
    throw rateLimited(
      `This request (about ${promptTokens} prompt tokens) is larger than this key's limit of ${key.tpmLimit} tokens per minute.`,
      admission.retryAfterSeconds,
    );
  }
  const what = admission.limit === 'rpm' ? `${key.rpmLimit} requests per minute` : `${key.tpmLimit} tokens per minute`;
  throw rateLimited(`Rate limit reached for this key: ${what}. Try again in ${admission.retryAfterSeconds} s.`, admission.retryAfterSeconds);
}

export async function prepareCall(gw: Gateway, key: CallerKey, request: ChatRequest): Promise<PreparedCall> {
  const model = resolveModel(gw, key, request);
  const adapter = adapters[model.dialect];
  const counted = estimatePromptTokens(request.messages, request.tools, request.response_format);
  const ticket = await admit(gw, key, counted);
  const promptTokens = Math.ceil(counted * PROMPT_ESTIMATE_MARGIN);
  const worst = worstCase(gw, model, promptTokens);
  // n choices produce up to n times the output, unless the upstream ignores n (DeepSeek).
  const choices = model.entry.quirks?.dropParams?.includes('n') ? 1 : Math.max(1, request.n ?? 1);
  const asked = request.max_completion_tokens ?? request.max_tokens;
  const wanted = Math.min(asked ?? worst.maxOutput, worst.maxOutput);
  let affordable: number | undefined;
  const reserve = () =>
    reserveCredit(
      gw.store,
      key.id,
      (available) => {
        affordable = undefined;
        const full = worst.promptNano + Math.ceil(wanted * choices * worst.perOutputNano);
        if (full <= available) return full;
        if (asked !== undefined || worst.perOutputNano === 0) return 0;
        const tokens = Math.floor((available - worst.promptNano) / (worst.perOutputNano * choices));
        if (tokens < 1) return 0;
        affordable = tokens;
        return worst.promptNano + Math.ceil(tokens * choices * worst.perOutputNano);
      },
      gw.billing.reservationTtlMs,
    );
  let outcome;
  try {
    outcome = await reserve();
    // On PostgreSQL a finished request's reservation is released by its settlement, written just after
    // the answer: a client that sends its next request at once could find its credit still held by the
    // last one (all of it, when that one had no max_tokens). Refused then, it waits for those settlements
    // of this instance, and, while other reservations of the key are open (another instance's settlement
    // may be a few milliseconds away), reads again a few times. SQLite needs neither: there a finished
    // request's reservation shrinks to its cost as it settles, and every request of the file is here.
    if (!outcome.ok && !gw.store.local) {
      const settling = settlementsOf(gw, key.id);
      if (settling) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([settling, new Promise((resolve) => (timer = setTimeout(resolve, SETTLEMENT_WAIT_MS)))]);
        clearTimeout(timer);
        outcome = await reserve();
      }
      for (const pause of HELD_CREDIT_RECHECKS_MS) {
        if (outcome.ok || outcome.heldNano === 0) break;
        await new Promise((resolve) => setTimeout(resolve, pause));
        outcome = await reserve();
      }
    }
  } catch (err) {
    if (ticket) void gw.billing.limiter.settle(key.id, ticket, 0);
    throw err;
  }
  if (!outcome.ok) {
    // The request never ran: its tokens do not count toward the key's TPM.
    if (ticket) void gw.billing.limiter.settle(key.id, ticket, 0);
    throw insufficientQuota(
      `Your balance ($${nanoToUsd(Math.max(0, outcome.availableNano))} available) cannot cover this request to ${request.model}` +
        (asked !== undefined ? ` with max_tokens ${asked}` : '') +
        '. Add credit or lower max_tokens.',
    );
  }
  outcome.reservation.rateTicket = ticket;
  const shaped = affordable === undefined ? request : { ...request, max_tokens: undefined, max_completion_tokens: affordable };
  return { model, adapter, request: shaped, promptTokensEstimate: counted, reservation: outcome.reservation, affordableOutputTokens: affordable };
}
