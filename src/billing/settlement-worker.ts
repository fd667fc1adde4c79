// The gateway's side of the SQLite writer thread (settlement-thread.ts): settlements, the balance reads
// of the credit mirror and the check for other writers go to the thread as messages and come back in
// the order they were sent. Each answer is applied to the mirror (local-credit.ts) in the handler that
// receives it, before any later answer, which keeps the mirror exact: a settlement's charges and
// released reservations are applied when its commit is known, and a balance read is exactly the
// batches answered before it.
//
// Between a batch's sending and its answer the mirror still holds the batch's reservations, each
// already set to its request's cost (LocalCredit.resize), against the balance before the batch: what
// it shows free then is never more than after the commit.
//
// If the thread fails, its pending work is refused (the settlement writer retries it in this process,
// settlement.ts), the mirror reads every balance again (the thread may have committed a batch whose
// answer was lost), and the gateway's connection checkpoints its WAL itself again.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import type { LocalCredit } from './local-credit.js';
import { COLUMNS, type Settlement, type SettlementResult } from './settlement.js';
import { chargeBatch, freshItems } from './settlement-charges.js';
import { settlementThread, type ThreadBatch, type ThreadReply, type ThreadRequest, type ThreadSettings, type ThreadSettled } from './settlement-thread.js';

/** SQLite's own default, restored on the gateway's connection if the thread stops working. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

/**
 * Checkpoint after a commit at most this often: each copies the WAL's new frames back into the database,
 * and the WAL starts over at the next commit. The thread's own commits can never overlap its
 * checkpoints; when another connection's reader held frames back, the next commit is checkpointed
 * again, until the WAL can start over. After every commit, the same index pages were copied forty times
 * a second (c=64 ~10 % fewer req/s). The timer covers writes of other connections (admin, CLI).
 */
export type CheckpointTiming = Pick<ThreadSettings, 'afterCommitEveryMs' | 'timerEveryMs'>;
const CHECKPOINTS: CheckpointTiming = { afterCommitEveryMs: 250, timerEveryMs: 1_000 };

/**
 * A batch is 0.5–2 ms of work on one of the cores. A process on a request's path (the upstream, the
 * client, this process's own event loop) that Linux wakes on that core waits for the thread instead of
 * moving to the other core, even when it is idle: measured, a request overlapping a batch took a
 * median 1.3 ms instead of 0.5. So the thread works in slices: after 0.1 ms, it pauses between two
 * statements for a moment, and whatever waited runs (the same request's median 0.7–0.85 ms when a
 * 0.7 ms busy loop was sliced so; in the bench, c=1 added p99 0.89–0.90 vs 1.25–1.33 ms). A pause costs
 * capacity (batches of 64 back to back: ~15,000 records/s instead of ~27,000) and CPU: its two context
 * switches came to 2–4 µs per record at c=16 (the process's CPU besides its main thread, 23–25 → 21–22
 * µs per request in alternating A/Bs). So only a partial batch is paced: a full one (64 records within
 * the batching window, ≥ 2,560 requests/s) means the cores are busy anyway, and pauses only add switches.
 */
const SLICES = { sliceMs: 0.1, pauseMs: 0.02 };

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

export interface SettlementWorker {
  /** False once the thread has failed: callers then do the work in this process. */
  readonly running: boolean;
  /** Writes a batch (settlement.ts rules) and applies it to the mirror; `busy`: write it without pauses. */
  settle(settlements: Settlement[], busy?: boolean): Promise<SettlementResult[]>;
  /** The key's balance, as of every batch answered so far; undefined for an unknown key. */
  readBalance(keyId: string): Promise<number | undefined>;
  /** The thread connection's data_version: it changes when another connection commits. */
  dataVersion(): Promise<number>;
  /** Each checkpoint's result (tests and debugging). */
  onCheckpoint?: (result: CheckpointResult) => void;
  stop(): Promise<void>;
}

export interface SettlementWorkerOptions {
  checkpoints?: CheckpointTiming;
  /** Path of the SQLite driver the thread loads: better-sqlite3 (tests give one that fails on purpose). */
  driver?: string;
}

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');
/**
 * Source of the thread: its body and the settlement arithmetic it shares with settlement.ts. The
 * TypeScript loader of the tests names functions through a helper it does not define there.
 */
const THREAD_SOURCE = ['const __name = (target) => target;', freshItems.toString(), chargeBatch.toString(), `(${settlementThread.toString()})();`].join('\n');

export function startSettlementWorker(
  file: SQLite.Database,
  path: string,
  local: LocalCredit,
  onFailure: (err: Error) => void,
  { checkpoints = CHECKPOINTS, driver = DRIVER }: SettlementWorkerOptions = {},
): SettlementWorker {
  file.pragma('wal_autocheckpoint = 0');
  const settings: ThreadSettings = { driver, path, usageColumns: COLUMNS.usage, ledgerColumns: COLUMNS.ledger, ...checkpoints, ...SLICES };
  const thread = new Worker(THREAD_SOURCE, { eval: true, workerData: settings });
  // An idle thread must not keep an otherwise finished process alive; one with work asked of it does,
  // or the process could end before a settlement it waits for is written.
  thread.unref();

  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let running = true;
  let stopping = false;
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));

  const ask = <T>(request: ThreadRequest, apply: (value: unknown) => T = (value) => value as T): Promise<T> => {
    if (!running) return Promise.reject(new Error('the settlement thread is not running'));
    if (!pending.size) thread.ref();
    return new Promise<T>((resolve, reject) => {
      // Applied here, in the handler of the answer: nothing can run between two answers.
      pending.set(request.id, {
        resolve: (value) => {
          try {
            resolve(apply(value));
          } catch (err) {
            reject(err as Error);
          }
        },
        reject,
      });
      thread.postMessage(request);
    });
  };

  const worker: SettlementWorker = {
    get running() {
      return running;
    },
    settle(settlements, busy = false) {
      const now = Date.now();
      const batch: ThreadBatch = { rows: [], reservations: [], reservedOf: {}, busy };
      for (const { usage, reservation } of settlements) {
        for (const c of COLUMNS.usage) batch.rows.push(c === 'created_at' ? (usage.created_at ?? now) : (usage[c] ?? null));
        if (!reservation) {
          batch.reservations.push(null, null, 0);
          continue;
        }
        batch.reservations.push(reservation.id, reservation.keyId, local.amountHeld(reservation.id));
        batch.reservedOf[reservation.keyId] = local.reservedOf(reservation.keyId);
      }
      return ask({ id: nextId++, type: 'settle', ...batch }, (value) => {
        const settled = value as ThreadSettled;
        local.settle({ charged: new Map(settled.charged), reservationIds: settled.released.map((i) => settlements[i].reservation!.id) });
        local.forget(settled.staleKeys);
        const results: SettlementResult[] = [];
        for (let i = 0; i < settled.results.length; i += 3) {
          results.push({ chargedNano: settled.results[i], uncoveredNano: settled.results[i + 1], duplicate: settled.results[i + 2] === 1 });
        }
        return results;
      });
    },
    readBalance: (keyId) =>
      ask({ id: nextId++, type: 'balance', keyId }, (value) => {
        if (typeof value === 'number') local.setBalance(keyId, value);
        return typeof value === 'number' ? value : undefined;
      }),
    dataVersion: () => ask<number>({ id: nextId++, type: 'version' }),
    async stop() {
      if (!running) return;
      // From here the thread stays held until it has exited (answers no longer unref it): awaiting an
      // unref'd thread would let the process end mid-shutdown.
      stopping = true;
      const stopped = ask({ id: nextId++, type: 'stop' }).catch(() => {});
      // What was asked before is answered first; what is asked from now on is refused at once (the
      // thread would never read it).
      running = false;
      await stopped;
      await exited;
    },
  };

  thread.on('message', (reply: ThreadReply) => {
    if ('checkpoint' in reply) return worker.onCheckpoint?.(reply.checkpoint);
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (!pending.size && !stopping) thread.unref();
    if (reply.ok) waiting?.resolve(reply.value);
    else waiting?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
  });
  const fail = (err: unknown) => {
    for (const waiting of pending.values()) waiting.reject(new Error('the settlement thread stopped'));
    pending.clear();
    if (!running) return;
    running = false;
    if (stopping || !file.open) return;
    local.forget();
    file.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    // An error thrown in the thread arrives structured-cloned: a driver error as a bare { code }.
    onFailure(err instanceof Error ? err : new Error(`the settlement thread failed: ${(err as { code?: string })?.code ?? String(err)}`));
  };
  thread.on('error', fail);
  thread.on('exit', (code) => fail(new Error(`the settlement thread exited with code ${code}`)));
  return worker;
}
