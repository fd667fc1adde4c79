// What the pipeline needs, built once at start and shared by every request.

import type { Agent } from 'undici';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Store } from '../store/database.js';
import type { Billing } from '../billing/billing.js';
import type { Metrics } from './metrics.js';
import type { CircuitBreakers } from './circuit-breaker.js';

export interface Gateway {
  config: Config;
  catalog: Catalog;
  store: Store;
  agent: Agent;
  log: Logger;
  metrics: Metrics;
  /** One circuit breaker per upstream deployment. */
  breakers: CircuitBreakers;
  /** Rate limiter, settlement writer and reservation sweep (src/billing/billing.ts). */
  billing: Billing;
  /** Settlements not yet written; shutdown waits for them so no usage record is lost. */
  pending: Set<Promise<unknown>>;
  /** The same, by key, for those that release a reservation (see settlementsOf). */
  settling: Map<string, Set<Promise<unknown>>>;
}

/** The authenticated caller of a /v1 request. */
export interface CallerKey {
  id: string;
  name: string;
  models: string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
}

export function track<T>(gw: Gateway, work: Promise<T>): Promise<T> {
  gw.pending.add(work);
  work.then(
    () => gw.pending.delete(work),
    () => gw.pending.delete(work),
  );
  return work;
}

/** Tracks the settlement of a finished request of `keyId` until it is written. */
export function trackSettlement<T>(gw: Gateway, keyId: string, work: Promise<T>): Promise<T> {
  let ofKey = gw.settling.get(keyId);
  if (!ofKey) gw.settling.set(keyId, (ofKey = new Set()));
  ofKey.add(work);
  const done = () => {
    ofKey.delete(work);
    // An emptied set is dropped at once, so it is still the key's: a new one is made only after that.
    if (!ofKey.size) gw.settling.delete(keyId);
  };
  work.then(done, done);
  return work;
}

/** Resolves once every settlement of `keyId` tracked now is written (or failed), or undefined if there is none. */
export function settlementsOf(gw: Gateway, keyId: string): Promise<unknown> | undefined {
  const ofKey = gw.settling.get(keyId);
  return ofKey?.size ? Promise.allSettled([...ofKey]) : undefined;
}

/**
 * Tracks a call from its start until its settlement is written: shutdown must not close the store while
 * a call the closed connections aborted is still unwinding toward settle(). Returns the function that
 * hands over the settlement.
 */
export function trackCall(gw: Gateway): (settlement: Promise<unknown>) => void {
  let handOver!: (settlement: Promise<unknown>) => void;
  void track(gw, new Promise<unknown>((resolve) => (handOver = resolve)));
  return handOver;
}
