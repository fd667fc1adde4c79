// The body of the SQLite writer thread (settlement-worker.ts starts it). It owns the gateway's writes
// of settlements on SQLite: a batch of usage records, their charges and ledger rows in one transaction,
// the same rules as settlement.ts (which PostgreSQL, the CLI and in-memory databases use), on a
// connection of its own, so the 1-2 ms a batch takes no longer stop the event loop that serves requests.
// Because its messages are answered in order, it also reads the balances the gateway mirrors
// (local-credit.ts): a balance read after a batch includes that batch, one read before it does not, so
// the mirror always knows which charges a balance holds. It reports its data_version (which changes
// when any other connection, the CLI or the gateway's own, commits), and copies the WAL back into the
// database after its commits (a checkpoint), which then can never overlap its own next commit.
//
// settlementThread runs as the source text of a function (Function.prototype.toString), so it must not
// use anything from outside its body: it cannot import modules (the TypeScript loader the tests run
// under does not reach worker threads), and its settings arrive as workerData. The one exception is the
// settlement arithmetic (settlement-charges.ts), whose source settlement-worker.ts puts before it.

import type SQLite from 'better-sqlite3';
import { chargeBatch, freshItems, type ChargeItem, type KeyFunds } from './settlement-charges.js';

export interface ThreadSettings {
  /** Path of better-sqlite3 and of the database file. */
  driver: string;
  path: string;
  /** Column order of the usage and ledger inserts (settlement.ts COLUMNS, checked against the schema). */
  usageColumns: readonly string[];
  ledgerColumns: readonly string[];
  /** Checkpoint after a commit when this long has passed since the last one (or the last was incomplete). */
  afterCommitEveryMs: number;
  /** And on a timer, for what other connections write. */
  timerEveryMs: number;
  /** Work at most this long at a stretch, then pause this long (settlement-worker.ts says why). */
  sliceMs: number;
  pauseMs: number;
}

/**
 * A batch as flat arrays of plain values: copying them to the thread costs a third of what copying
 * an object per record did (~35 vs ~100 µs for 50 records), and that copy is on the event loop.
 */
export interface ThreadBatch {
  /** Each record's values in the order of usageColumns, created_at filled in. */
  rows: unknown[];
  /** Three values per record: its reservation's id, key id, and what the gateway's mirror held for it
   * when the batch was sent; null, null, 0 for a record without one. */
  reservations: Array<string | number | null>;
  /** Each key's open reservations, as sent. */
  reservedOf: Record<string, number>;
  /** A full batch (arrivals fill batches faster than the window): write it without pauses. */
  busy: boolean;
}

export type ThreadRequest =
  | ({ id: number; type: 'settle' } & ThreadBatch)
  | { id: number; type: 'balance'; keyId: string }
  | { id: number; type: 'version' }
  | { id: number; type: 'stop' };

/**
 * A batch's answer, flat like the batch: the event loop copies it back, and an object per record
 * (each record's result, a reservation id string) was most of that copy's cost.
 */
export interface ThreadSettled {
  /** Three numbers per record, in batch order: charged, uncovered, and 1 if it was written before (else 0). */
  results: number[];
  /** Charged by key, and the records whose reservations are released, by index (the mirror applies both). */
  charged: Array<[string, number]>;
  released: number[];
  /** Keys with a record written by an earlier attempt: their balance must be read again. */
  staleKeys: string[];
}

export type ThreadReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } }
  | { checkpoint: { log: number; checkpointed: number } };

export function settlementThread(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const settings = workerData as ThreadSettings;
  const Driver = require(settings.driver) as typeof SQLite;
  const db = new Driver(settings.path);
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  const port = parentPort!;

  const pause = new Int32Array(new SharedArrayBuffer(4));
  let workingSince = 0;
  let unpaced = false;
  /** Between statements: a moment off the core once the thread has worked a slice without a break. */
  const breathe = () => {
    if (unpaced || performance.now() - workingSince < settings.sliceMs) return;
    Atomics.wait(pause, 0, 0, settings.pauseMs);
    workingSince = performance.now();
  };

  // Statements by text: n records need their own multi-row text, and counts are few (batches ≤ 64, inserts ≤ 16).
  const prepared = new Map<string, SQLite.Statement>();
  const statement = (text: string) => {
    let s = prepared.get(text);
    if (!s) prepared.set(text, (s = db.prepare(text)));
    return s;
  };
  const marks = (n: number, width: number) => Array(n).fill(`(${Array(width).fill('?').join(', ')})`).join(', ');
  const insertText = (table: string, columns: readonly string[], n: number, tail: string) =>
    `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${marks(n, columns.length)}${tail}`;
  /** Rows (their values in column order) inserted in pieces of at most 16, a breath before each. */
  const insertRows = (table: string, columns: readonly string[], values: unknown[], tail = '') => {
    const piece = 16 * columns.length;
    for (let at = 0; at < values.length; at += piece) {
      breathe();
      const part = values.slice(at, at + piece);
      statement(insertText(table, columns, part.length / columns.length, tail)).run(...part);
    }
  };
  const balanceOf = statement('select "balance_nano" from "api_keys" where "id" = ?').pluck();
  const DOES_NOT_FIT = new Error('a charge does not fit');

  const width = settings.usageColumns.length;
  const column = { id: settings.usageColumns.indexOf('id'), cost: settings.usageColumns.indexOf('cost_nano'), model: settings.usageColumns.indexOf('model') };

  const settleOnce = ({ rows, reservations, reservedOf }: ThreadBatch, clamp: boolean): ThreadSettled => {
    const items: ChargeItem[] = [];
    /** Each reservation's record in the batch: what the mirror held for it is read from there. */
    const indexOf = new Map<string, number>();
    for (let i = 0; i < rows.length / width; i++) {
      const reservationId = reservations[3 * i] as string | null;
      const item: ChargeItem = { id: rows[i * width + column.id] as string, cost: rows[i * width + column.cost] as number };
      if (reservationId) {
        item.reservation = { id: reservationId, keyId: reservations[3 * i + 1] as string };
        indexOf.set(reservationId, i);
      }
      items.push(item);
    }
    const ids = items.map((i) => i.id);
    const fresh = freshItems(ids, statement(`select "id" from "usage" where "id" in (${Array(ids.length).fill('?').join(', ')})`).pluck().all(...ids) as string[]);
    let funds: Map<string, KeyFunds> | undefined;
    if (clamp) {
      funds = new Map();
      for (const i of fresh) {
        const r = items[i].reservation;
        const balance = r && !funds.has(r.keyId) ? (balanceOf.get(r.keyId) as number | undefined) : undefined;
        if (balance !== undefined) funds.set(r!.keyId, { balance, reserved: reservedOf[r!.keyId] ?? 0 });
      }
    }
    const heldOf = (id: string) => {
      const i = indexOf.get(id);
      return i === undefined ? 0 : (reservations[3 * i + 2] as number);
    };
    const batch = chargeBatch(items, fresh, heldOf, funds);
    const now = Date.now();
    const ledger: unknown[] = [];
    for (const [i, charge] of batch.charges) {
      if (!(charge > 0)) continue;
      const { id, reservation } = items[i];
      const row: Record<string, unknown> = { key_id: reservation!.keyId, kind: 'charge', amount_nano: -charge, request_id: id, note: rows[i * width + column.model], created_at: now };
      for (const c of settings.ledgerColumns) ledger.push(row[c] ?? null);
    }
    insertRows('ledger', settings.ledgerColumns, ledger);
    const values: unknown[] = [];
    for (const i of fresh) {
      for (let c = 0; c < width; c++) values.push(c === column.cost ? (batch.charges.get(i) ?? 0) : rows[i * width + c]);
    }
    insertRows('usage', settings.usageColumns, values, ' on conflict ("id") do nothing');
    breathe();
    for (const [keyId, { charged, released: freed }] of batch.totals) {
      if (!charged) continue;
      if (clamp) {
        statement('update "api_keys" set "balance_nano" = "balance_nano" - ?, "spent_nano" = "spent_nano" + ? where "id" = ?').run(charged, charged, keyId);
        continue;
      }
      // In full only if the key can pay it all beyond its other reservations (as sent).
      const othersHold = (reservedOf[keyId] ?? 0) - freed;
      const { changes } = statement(
        'update "api_keys" set "balance_nano" = "balance_nano" - ?, "spent_nano" = "spent_nano" + ? where "id" = ? and "balance_nano" - ? >= ?',
      ).run(charged, charged, keyId, othersHold, charged);
      if (changes === 0) throw DOES_NOT_FIT;
    }
    breathe(); // before the commit
    const results: number[] = [];
    for (const r of batch.results) results.push(r.chargedNano, r.uncoveredNano, r.duplicate ? 1 : 0);
    return {
      results,
      charged: [...batch.totals].map(([keyId, t]) => [keyId, t.charged]),
      released: batch.released.map((id) => indexOf.get(id)!),
      staleKeys: batch.staleKeys,
    };
  };
  const optimistic = db.transaction((batch: ThreadBatch) => settleOnce(batch, false));
  const clamped = db.transaction((batch: ThreadBatch) => settleOnce(batch, true));
  const settle = (batch: ThreadBatch): ThreadSettled => {
    try {
      return optimistic.immediate(batch);
    } catch (err) {
      if (err !== DOES_NOT_FIT) throw err;
      return clamped.immediate(batch);
    }
  };

  let checkpointedAt = 0;
  let framesHeldBack = false;
  const checkpoint = () => {
    checkpointedAt = Date.now();
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    // Another connection's reader held frames back: the WAL cannot start over until they are copied.
    framesHeldBack = result.checkpointed < result.log;
    port.postMessage({ checkpoint: { log: result.log, checkpointed: result.checkpointed } } satisfies ThreadReply);
  };
  // Writes of other connections (admin requests, the CLI) are checkpointed too, at the latest after this.
  const timer = setInterval(() => Date.now() - checkpointedAt >= settings.timerEveryMs && checkpoint(), settings.timerEveryMs);

  port.on('message', (request: ThreadRequest) => {
    workingSince = performance.now();
    unpaced = request.type === 'settle' && request.busy;
    if (request.type === 'stop') {
      clearInterval(timer);
      db.close();
      port.postMessage({ id: request.id, ok: true, value: null } satisfies ThreadReply);
      port.close();
      return;
    }
    let reply: ThreadReply;
    try {
      const value =
        request.type === 'settle' ? settle(request)
        : request.type === 'balance' ? (balanceOf.get(request.keyId) ?? null)
        : db.pragma('data_version', { simple: true });
      reply = { id: request.id, ok: true, value };
    } catch (err) {
      const e = err as { message?: string; code?: string };
      reply = { id: request.id, ok: false, error: { message: String(e?.message ?? err), code: e?.code } };
    }
    port.postMessage(reply);
    if (request.type === 'settle' && reply.ok && (framesHeldBack || Date.now() - checkpointedAt >= settings.afterCommitEveryMs)) {
      breathe(); // between the commit and the checkpoint; the timer's checkpoints find the thread idle
      checkpoint();
    }
  });
}
