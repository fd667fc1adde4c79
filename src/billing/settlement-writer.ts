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
  private retryTimer?: NodeJS.Timeout;
  private giveUpAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Resolves once the settlement is written (or, past the shutdown deadline, logged as unwritable). */
  submit(settlement: Settlement): Promise<SettlementResult> {
    return new Promise((resolve) => {
      this.queue.push({ settlement, resolve, attempts: 0 });
      this.schedule(0);
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

  private schedule(delayMs: number): void {
    if (this.running) return;
    if (delayMs === 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.running = true;
      // setImmediate: settlements of the same event-loop turn join one batch.
      setImmediate(() => void this.drain());
    } else if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule(0);
      }, delayMs);
    }
  }

  private async drain(): Promise<void> {
    let retryIn = 0;
    try {
      while (this.queue.length && retryIn === 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const failed = await this.writeBatch(batch);
        if (failed.length) {
          // Keep failed items first so order is roughly kept, then wait before trying them again.
          this.queue.unshift(...failed);
          retryIn = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(10, failed[0].attempts - 1));
        }
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule(retryIn);
    }
  }

  /** Writes a batch; returns the items that could not be written yet. */
  private async writeBatch(batch: Pending[]): Promise<Pending[]> {
    try {
      const results = await settleCredits(this.store, batch.map((p) => p.settlement));
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
