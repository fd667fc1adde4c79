// WAL checkpoints off the event loop, for the gateway's SQLite file. By default SQLite copies the WAL back
// into the database inside whichever commit takes the WAL past 1,000 pages: on the gateway that commit is
// a settlement batch on the event loop, which then took 10-20 ms instead of 1-2 and delayed every request
// in flight behind it; the copying was also about a third of the settlement's time (1.5 vs 1.0 ms per
// 30-record batch in isolation). The gateway's connection stops checkpointing and a worker thread with
// its own connection does it instead, on the other core. If the worker fails, the connection checkpoints
// itself again.
//
// When: just after a commit (the settlement writer calls committed()), when afterCommitEveryMs (250 ms) passed
// since the last checkpoint. The WAL file starts over from its beginning only when a commit finds it
// wholly checkpointed: a checkpoint on a blind timer overlapped the next commit under load, never caught
// up, and the file grew without end (120 MB in 25 s of bench load). Right after a commit the worker has
// the batching window (25 ms) to itself, and a quarter second's frames take a few milliseconds: the WAL
// stayed under 3 MB in a 60 s soak. A checkpoint after every commit also kept it small, but copied the
// same index pages forty times a second (c=64 throughput ~10 % lower in an A/B). PASSIVE: it never waits
// for, nor blocks, the writer. A slow timer covers writes nobody reports (admin, CLI).
// On a slower disk a quarter second's frames may take longer to copy than the window: the checkpoint then
// overlaps the next commit every time and the WAL grows (seen on a CI machine: 2,484 frames where ~300
// were expected). So once a checkpoint finds more than 1,000 frames (SQLite's own mark), the worker
// checkpoints after every commit, each copying only one batch's frames, until the WAL has started over.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export interface CheckpointTiming {
  /** At most this often after a reported commit. */
  afterCommitEveryMs: number;
  /** The timer for unreported writes. */
  everyMs: number;
  /** A WAL this many frames long has not been starting over: checkpoint after every commit until it does. */
  catchUpFrames: number;
}

/** Same-run A/B against checkpoints inside commits: c=16 3,001 vs 2,659 req/s, c=64 3,395 vs 3,127. */
const GATEWAY_TIMING: CheckpointTiming = { afterCommitEveryMs: 250, everyMs: 1_000, catchUpFrames: 1_000 };
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
  /** A write transaction just committed: a good moment to checkpoint, if one is due. */
  committed(): void;
  stop(): Promise<void>;
}

/**
 * The worker: its own connection, a PASSIVE checkpoint when told of a commit and one is due or the WAL
 * is behind (and on the slow timer), each result posted back; 'stop' closes it.
 * Plain JavaScript evaluated in the worker, so it runs the same under the TypeScript loader (tests) as
 * from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
let lastAt = 0;
let behind = false;
const checkpoint = () => {
  lastAt = Date.now();
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  behind = result.log > workerData.catchUpFrames;
  parentPort.postMessage({ log: result.log, checkpointed: result.checkpointed });
};
const timer = setInterval(() => Date.now() - lastAt >= workerData.everyMs && checkpoint(), workerData.everyMs);
parentPort.on('message', (message) => {
  if (message === 'committed') return (behind || Date.now() - lastAt >= workerData.afterCommitEveryMs) && checkpoint();
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
const driver = createRequire(import.meta.url).resolve('better-sqlite3');

export function startWalCheckpointer(
  file: SQLite.Database,
  path: string,
  onFailure: (err: Error) => void,
  timing: CheckpointTiming = GATEWAY_TIMING,
): WalCheckpointer {
  file.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, ...timing } });
  // A checkpointer must not keep an otherwise finished process alive.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const checkpointer: WalCheckpointer = {
    committed: () => {
      if (!stopping) worker.postMessage('committed');
    },
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
