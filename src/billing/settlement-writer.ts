// The batching writer for settlements (usage record + charge + ledger row), off the response path.
// Settlements that arrive while a batch is being written wait and go together into the next one, so
// under load the database sees one transaction per batch instead of one per request. Nothing is ever
// dropped: a batch that fails is retried item by item, a failing item is retried with backoff until it
// is written (settlements are idempotent), and only at shutdown, once the deadline has passed, is a
// record that still cannot be written logged in full (level error) so an operator can replay it.

import type { Logger } from 'pino';
import type { Store } from '../store/database.js';
import { settleCredits, type Settlement, type SettlementResult } from './settlement.js';

const MAX_BATCH = 64;
/**
 * On SQLite a settlement waits up to this long for others to share its transaction. Without a window,
 * batches under load held one or two records, and a transaction per request cost more CPU than the
 * rest of the request. There a finished request's reservation is set to its cost at once
 * (local-credit.ts), so the wait holds back no credit. On PostgreSQL the reservation row is released
 * only by the settlement, so it is written at once (batches form there while a commit is in flight).
 * 25 ms rather than 10: a commit's fixed cost (its WAL writes) then falls on ~2.5× as many records at
 * low load (c=1 CPU per request 754 vs 801 µs in one bench run; 2 ms was worse, 50 ms no better); a
 * usage record reaches the database at most this much later. With the batches written on the writer
 * thread, 10 ms gave c=1 a shorter tail (added p99 0.92 / 1.03 vs 1.19 / 1.34 ms in two same-run A/Bs:
 * smaller bursts on the shared cores) for more CPU per request at low load (c=1 +4 / +12 %, streaming
 * c=1 +30 %) and a c=16 tail no better (4.51 / 3.60 vs 4.25 / 2.86 ms); 5 ms was similar, c=16 worse.
 */
const SQLITE_BATCH_WINDOW_MS = 25;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 5_000;

interface Pending {
  settlement: Settlement;
  resolve: (result: SettlementResult) => void;
  attempts: number;
}

export class SettlementWriter {
  private readonly queue: Pending[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private giveUpAt = Number.POSITIVE_INFINITY;

  private readonly windowMs: number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    this.windowMs = store.local ? SQLITE_BATCH_WINDOW_MS : 0;
  }

  /** Resolves once the settlement is written (or, past the shutdown deadline, logged as unwritable). */
  submit(settlement: Settlement): Promise<SettlementResult> {
    return new Promise((resolve) => {
      this.queue.push({ settlement, resolve, attempts: 0 });
      this.schedule(this.nextBatchIn());
    });
  }

  /** Settlements still waiting to be written. */
  get backlog(): number {
    return this.queue.length;
  }

  /** From now on, a settlement that fails after `deadline` is logged instead of retried again. */
  shutdown(deadline: number): void {
    this.giveUpAt = deadline;
    if (this.queue.length) this.schedule(0);
  }

  /** A full batch, or shutdown, is written at once; otherwise after the batching window. */
  private nextBatchIn(): number {
    return this.queue.length >= MAX_BATCH || this.giveUpAt !== Number.POSITIVE_INFINITY ? 0 : this.windowMs;
  }

  private schedule(delayMs: number): void {
    if (this.running) return;
    if (delayMs === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = true;
      setImmediate(() => void this.drain());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule(0);
      }, delayMs);
    }
  }

  private async drain(): Promise<void> {
    let retryIn = 0;
    try {
      const batch = this.queue.splice(0, MAX_BATCH);
      const failed = await this.writeBatch(batch, batch.length === MAX_BATCH);
      if (failed.length) {
        // Keep failed items first so order is roughly kept, then wait before trying them again.
        this.queue.unshift(...failed);
        retryIn = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(10, failed[0].attempts - 1));
      }
    } finally {
      this.running = false;
      // One batch per drain: a full queue (or shutdown) goes on at once, the rest waits for the window.
      if (this.queue.length) this.schedule(retryIn || this.nextBatchIn());
    }
  }

  /** Writes a batch; returns the items that could not be written yet. */
  private async writeBatch(batch: Pending[], busy = false): Promise<Pending[]> {
    try {
      const results = await settleCredits(this.store, batch.map((p) => p.settlement), { busy });
      batch.forEach((p, i) => p.resolve(results[i]));
      return [];
    } catch (err) {
      if (batch.length > 1) {
        // One bad item must not hold back the others.
        const failed: Pending[] = [];
        for (const p of batch) failed.push(...(await this.writeBatch([p])));
        return failed;
      }
      return this.failed(batch[0], err);
    }
  }

  private failed(p: Pending, err: unknown): Pending[] {
    p.attempts++;
    if (Date.now() >= this.giveUpAt) {
      this.log.error({ err, usage: p.settlement.usage, reservation: p.settlement.reservation }, 'usage record could not be written before shutdown');
      p.resolve({ chargedNano: 0, uncoveredNano: p.settlement.usage.cost_nano, duplicate: false });
      return [];
    }
    if (p.attempts === 1 || p.attempts % 20 === 0) {
      this.log.warn({ err, requestId: p.settlement.usage.id, attempts: p.attempts }, 'usage record not written yet; retrying');
    }
    return [p];
  }
}
