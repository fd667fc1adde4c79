// The single usage record of a request and its charge, written once whatever happened. The record goes
// to the batching settlement writer (billing/settlement-writer.ts), off the response path; the key's
// token count for its TPM limit is corrected here at once, without waiting for the database.

import type { BillableUsage } from '../providers/types.js';
import type { Reservation } from '../billing/credit.js';
import { costNano, pricingOf } from '../billing/prices.js';
import type { ModelEntry } from '../catalog/types.js';
import type { Deployment } from '../catalog/catalog.js';
import { trackSettlement, type Gateway } from './gateway.js';

export interface Outcome {
  requestId: string;
  keyId: string;
  requestedModel: string;
  served?: ModelEntry;
  /** The deployment that answered: its prices (when it has its own) are the ones charged. */
  deployment?: Deployment;
  reservation?: Reservation;
  billable?: BillableUsage;
  estimated: boolean;
  status: 'ok' | 'error' | 'aborted' | 'timeout';
  httpStatus: number;
  errorCode?: string | null;
  stream: boolean;
  startedAt: number;
  firstTokenAt?: number;
}

export const ZERO_USAGE: BillableUsage = {
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  promptTokens: 0,
};

/**
 * Writes the usage record and charge, after the I/O of this event-loop turn so that the answer (or the
 * stream's last event) reaches the client first. The caller tracks the call from its start (trackCall
 * in gateway.ts), so shutdown waits for this too.
 */
export function settle(gw: Gateway, o: Outcome): Promise<number> {
  const work = new Promise<void>((resolve) => setImmediate(resolve)).then(() => settleNow(gw, o));
  // Only PostgreSQL waits on them (prepare.ts): on SQLite the reservation shrinks to its cost at once.
  return o.reservation && !gw.store.local ? trackSettlement(gw, o.keyId, work) : work;
}

function settleNow(gw: Gateway, o: Outcome): Promise<number> {
  const usage = o.billable ?? ZERO_USAGE;
  const cost = o.served ? costNano(pricingOf(o.served, o.deployment), usage) : 0;
  const requested = gw.catalog.get(o.requestedModel);
  const provider = o.served?.provider ?? requested?.entry.provider ?? 'unknown';
  // A model id the catalog does not know is the client's free text: as a label it would grow the registry forever.
  const model = requested ? o.requestedModel : 'unknown';
  const now = Date.now();
  gw.metrics.recordRequest({
    model, provider, status: o.status, code: o.errorCode ?? String(o.httpStatus), stream: o.stream,
    seconds: (now - o.startedAt) / 1000,
    firstTokenSeconds: o.firstTokenAt ? (o.firstTokenAt - o.startedAt) / 1000 : undefined,
    promptTokens: usage.promptTokens, completionTokens: usage.outputTokens,
  });
  if (o.reservation) gw.store.local?.resize(o.reservation.id, Math.max(0, Math.ceil(cost)));
  const ticket = o.reservation?.rateTicket;
  if (ticket) void gw.billing.limiter.settle(o.keyId, ticket, usage.promptTokens + usage.outputTokens);
  const work = gw.billing.settlements
    .submit({
      reservation: o.reservation,
      usage: {
        id: o.requestId,
        key_id: o.keyId,
        model: o.requestedModel,
        provider,
        deployment: o.deployment?.id ?? null,
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.outputTokens,
        cached_tokens: usage.cachedInputTokens,
        cache_write_tokens: usage.cacheWrite5mTokens + usage.cacheWrite1hTokens,
        reasoning_tokens: usage.reasoningTokens,
        cost_nano: cost,
        status: o.status,
        http_status: o.httpStatus,
        error_code: o.errorCode ?? null,
        estimated: o.estimated ? 1 : 0,
        stream: o.stream ? 1 : 0,
        latency_ms: now - o.startedAt,
        ttft_ms: o.firstTokenAt ? o.firstTokenAt - o.startedAt : null,
      },
    })
    .then((result) => {
      gw.metrics.recordCost(model, provider, result.chargedNano);
      if (result.uncoveredNano > 0) {
        // The key paid all it could; the rest (an expired reservation, or a cost above the estimate) is the operator's.
        gw.log.warn({ requestId: o.requestId, keyId: o.keyId, costNano: cost, chargedNano: result.chargedNano }, 'request cost more than the key could cover');
      }
      return result.chargedNano;
    });
  return work;
}
