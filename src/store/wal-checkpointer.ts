// WAL checkpoints off the event loop, for the gateway's SQLite file. By default SQLite copies the WAL back
// into the database inside whichever commit takes the WAL past 1,000 pages: on the gateway that commit is
// a settlement batch on the event loop, which then took 10-20 ms instead of 1-2 and delayed every request
// in flight behind it; the copying was also about a third of the settlement's time (1.5 vs 1.0 ms per
// 30-record batch in isolation). The gateway's connection stops checkpointing and a worker thread with
// its own connection checkpoints every CHECKPOINT_EVERY_MS instead, on the other core. PASSIVE: it never
// waits for, nor blocks, the writer. If the worker fails, the connection checkpoints itself again.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/**
 * About SQLite's own rhythm under load (~1,000 pages a second at 2,500 requests/s). 250 ms was worse in a
 * bench A/B: four fsyncs a second, and the same index pages copied over again in each checkpoint.
 */
const CHECKPOINT_EVERY_MS = 1_000;
/** SQLite's own default, restored on the gateway's connection if the worker stops working. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

export interface WalCheckpointer {
  /** Each checkpoint's result (tests and debugging). */
  onCheckpoint?: (result: CheckpointResult) => void;
  stop(): Promise<void>;
}

/**
 * The worker: its own connection, a PASSIVE checkpoint on a timer, each result posted back when it
 * changed (an idle gateway gets no message); 'stop' closes it. Plain JavaScript evaluated in the worker,
 * so it runs the same under the TypeScript loader (tests) as from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
let last = '';
const timer = setInterval(() => {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  const now = result.log + '/' + result.checkpointed;
  if (now !== last) parentPort.postMessage({ log: result.log, checkpointed: result.checkpointed });
  last = now;
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
const driver = createRequire(import.meta.url).resolve('better-sqlite3');

export function startWalCheckpointer(file: SQLite.Database, path: string, onFailure: (err: Error) => void): WalCheckpointer {
  file.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, everyMs: CHECKPOINT_EVERY_MS } });
  // A checkpointer must not keep an otherwise finished process alive.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const checkpointer: WalCheckpointer = {
    stop: async () => {
      stopping = true;
      // Held again until it has exited: awaiting an unref'd worker would let the process end mid-shutdown.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
  worker.on('message', (result: CheckpointResult) => checkpointer.onCheckpoint?.(result));
  let tookOver = false;
  const takeOver = (err: unknown) => {
    if (stopping || tookOver || !file.open) return;
    tookOver = true;
    file.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    // An error thrown in the worker arrives structured-cloned: a driver error as a bare { code }.
    onFailure(err instanceof Error ? err : new Error(`the WAL checkpoint worker failed: ${(err as { code?: string })?.code ?? String(err)}`));
  };
  worker.on('error', takeOver);
  worker.on('exit', (code) => takeOver(new Error(`the WAL checkpoint worker exited with code ${code}`)));
  return checkpointer;
}
