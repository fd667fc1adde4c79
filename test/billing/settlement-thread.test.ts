// The SQLite writer thread (src/billing/settlement-worker.ts, settlement-thread.ts): settlements written
// there keep the database and the in-process mirror of each balance in step, whatever arrives in
// between; a batch written twice is charged once; a balance lowered behind the mirror's back is charged
// only what it holds; checkpoints after its commits keep the WAL starting over; and a thread that
// cannot start, or dies between a commit and its answer, hands everything back to the gateway's own
// connection without charging twice or holding credit that was released.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { addCredit, foreignWriteCheck, reserveCredit, type Reservation } from '../../src/billing/credit.js';
import { settleCredits } from '../../src/billing/settlement.js';
import { LocalCredit } from '../../src/billing/local-credit.js';
import { startSettlementWorker, type CheckpointResult, type CheckpointTiming, type SettlementWorker } from '../../src/billing/settlement-worker.js';
import { SettlementWriter } from '../../src/billing/settlement-writer.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { openStore, type Store } from '../../src/store/database.js';
import pino from 'pino';
import { createKey } from '../../src/store/api-keys.js';
import { money, usageRecord } from './support/billing-helpers.js';

const HOUR = 3_600_000;
const scratch = () => mkdtempSync(join(tmpdir(), 'omnigate-writer-'));

async function reserve(store: Store, keyId: string, amount: number): Promise<Reservation> {
  const outcome = await reserveCredit(store, keyId, () => amount, HOUR);
  assert.ok(outcome.ok, `reserved ${amount}`);
  return outcome.reservation;
}

const pragma = async (store: Store, text: string) => Object.values((await sql.raw<Record<string, number>>(`PRAGMA ${text}`).execute(store.db)).rows[0]!)[0];

describe('the SQLite writer thread', () => {
  let dir: string;
  let store: Store;
  let cli: Store;

  before(async () => {
    dir = scratch();
    store = await openStore(`file:${join(dir, 'gw.db')}`, { writerThread: true, onWriterFailure: (err) => assert.fail(err) });
    cli = await openStore(`file:${join(dir, 'gw.db')}`); // another connection, as the CLI has
  });
  after(async () => {
    await store?.close();
    await cli?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the settlement on its own connection; the mirror moves when the commit is answered', async () => {
    assert.ok(store.writer?.running);
    assert.equal(await pragma(store, 'wal_autocheckpoint'), 0, 'the gateway connection leaves checkpoints to the thread');
    const { row } = await createKey(store, { name: 'thread', creditNano: 100_000 });
    const r = await reserve(store, row.id, 60_000);
    store.local!.resize(r.id, 25_000);
    const settling = settleCredits(store, [{ reservation: r, usage: usageRecord(row.id, 25_000) }]);
    assert.deepEqual(store.local!.known(row.id), { balance: 100_000, reserved: 25_000 }, 'held until the answer');
    const [result] = await settling;
    assert.deepEqual(result, { chargedNano: 25_000, uncoveredNano: 0, duplicate: false });
    assert.deepEqual(store.local!.known(row.id), { balance: 75_000, reserved: 0 });
    assert.deepEqual(await money(store, row.id), { balance: 75_000, reserved: 0, spent: 25_000 });
    const ledger = await store.db.selectFrom('ledger').select(['kind', 'amount_nano']).where('key_id', '=', row.id).orderBy('id').execute();
    assert.deepEqual(ledger, [{ kind: 'credit', amount_nano: 100_000 }, { kind: 'charge', amount_nano: -25_000 }]);
  });

  it('a balance read behind a batch in flight includes it exactly once', async () => {
    const { row } = await createKey(store, { name: 'order', creditNano: 100_000 });
    const r = await reserve(store, row.id, 30_000);
    const settling = settleCredits(store, [{ reservation: r, usage: usageRecord(row.id, 30_000) }]);
    store.local!.forget([row.id]); // as after another connection's write
    const reading = store.writer!.readBalance(row.id);
    await settling;
    assert.equal(await reading, 70_000);
    assert.deepEqual(store.local!.known(row.id), { balance: 70_000, reserved: 0 });
    assert.equal((await reserveCredit(store, row.id, () => 70_000, HOUR)).ok, true);
    assert.equal((await reserveCredit(store, row.id, () => 1, HOUR)).ok, false, 'not a nano more');
  });

  it('a batch written again (its answer lost) is not charged twice, and the balance is read again', async () => {
    const { row } = await createKey(store, { name: 'twice', creditNano: 100_000 });
    const r = await reserve(store, row.id, 10_000);
    const record = usageRecord(row.id, 10_000);
    await settleCredits(store, [{ reservation: r, usage: record }]);
    // The same batch again: only possible after a lost answer, when the mirror had not applied the first.
    store.local!.setBalance(row.id, 100_000);
    const [again] = await settleCredits(store, [{ reservation: r, usage: record }]);
    assert.equal(again.duplicate, true);
    assert.equal(store.local!.known(row.id), undefined, 'the mirror reads the balance again');
    assert.deepEqual(await money(store, row.id), { balance: 90_000, reserved: 0, spent: 10_000 });
    assert.equal((await store.db.selectFrom('usage').select('id').where('key_id', '=', row.id).execute()).length, 1);
  });

  it('a batch holding a record written before and a new one charges the new one only', async () => {
    const { row } = await createKey(store, { name: 'mixed', creditNano: 100_000 });
    const first = await reserve(store, row.id, 10_000);
    const firstRecord = usageRecord(row.id, 10_000);
    await settleCredits(store, [{ reservation: first, usage: firstRecord }]);
    store.local!.setBalance(row.id, 100_000); // as after a lost answer
    const second = await reserve(store, row.id, 20_000);
    const results = await settleCredits(store, [
      { reservation: first, usage: firstRecord },
      { reservation: second, usage: usageRecord(row.id, 20_000) },
    ]);
    assert.deepEqual(results, [
      { chargedNano: 0, uncoveredNano: 0, duplicate: true },
      { chargedNano: 20_000, uncoveredNano: 0, duplicate: false },
    ]);
    assert.deepEqual(await money(store, row.id), { balance: 70_000, reserved: 0, spent: 30_000 });
    assert.equal((await store.db.selectFrom('usage').select('id').where('key_id', '=', row.id).execute()).length, 2);
    assert.equal((await store.db.selectFrom('ledger').select('id').where('key_id', '=', row.id).where('kind', '=', 'charge').execute()).length, 2);
  });

  it('a cost above the estimate is charged only from free credit: another request\'s reservation stays whole', async () => {
    const { row } = await createKey(store, { name: 'over', creditNano: 100_000 });
    const a = await reserve(store, row.id, 30_000);
    const b = await reserve(store, row.id, 60_000);
    store.local!.resize(a.id, 50_000); // A cost 50,000: it may grow by the 10,000 still free, no more
    assert.deepEqual(store.local!.known(row.id), { balance: 100_000, reserved: 100_000 });
    const settlingA = settleCredits(store, [{ reservation: a, usage: usageRecord(row.id, 50_000) }]);
    assert.deepEqual(await reserveCredit(store, row.id, () => 1, HOUR), { ok: false, availableNano: 0, heldNano: 100_000 }, 'nothing is free while A is in flight');
    assert.deepEqual((await settlingA)[0], { chargedNano: 40_000, uncoveredNano: 10_000, duplicate: false });
    assert.deepEqual(store.local!.known(row.id), { balance: 60_000, reserved: 60_000 });
    const [resultB] = await settleCredits(store, [{ reservation: b, usage: usageRecord(row.id, 60_000) }]);
    assert.deepEqual(resultB, { chargedNano: 60_000, uncoveredNano: 0, duplicate: false });
    assert.deepEqual(await money(store, row.id), { balance: 0, reserved: 0, spent: 100_000 });
    assert.deepEqual(store.local!.known(row.id), { balance: 0, reserved: 0 });
  });

  it('a full batch is sent as busy (the thread then skips its pauses), a partial one is not', async () => {
    const { row } = await createKey(store, { name: 'backlog', creditNano: 1_000_000 });
    const flags: boolean[] = [];
    const writer = store.writer!;
    const settle = writer.settle.bind(writer);
    writer.settle = (items, busy) => (flags.push(Boolean(busy)), settle(items, busy));
    try {
      const batching = new SettlementWriter(store, pino({ level: 'silent' }));
      const reservations = [];
      for (let i = 0; i < 200; i++) reservations.push(await reserve(store, row.id, 1_000));
      const results = await Promise.all(reservations.map((r) => batching.submit({ reservation: r, usage: usageRecord(row.id, 1_000) })));
      assert.ok(results.every((r) => r.chargedNano === 1_000));
    } finally {
      writer.settle = settle;
    }
    // 200 at once: three full batches of 64, then the 8.
    assert.deepEqual(flags, [true, true, true, false]);
    assert.deepEqual(await money(store, row.id), { balance: 800_000, reserved: 0, spent: 200_000 });
  });

  it('credit removed by another connection behind the mirror: the charge is what the balance holds', async () => {
    const { row } = await createKey(store, { name: 'clamp', creditNano: 100_000 });
    const r = await reserve(store, row.id, 80_000);
    await addCredit(cli, row.id, -95_000);
    const [result] = await settleCredits(store, [{ reservation: r, usage: usageRecord(row.id, 80_000) }]);
    assert.deepEqual(result, { chargedNano: 5_000, uncoveredNano: 75_000, duplicate: false });
    const check = foreignWriteCheck(store);
    await check();
    await addCredit(cli, row.id, 1_000);
    await check();
    assert.deepEqual(await money(store, row.id), { balance: 1_000, reserved: 0, spent: 5_000 });
    assert.deepEqual(await reserveCredit(store, row.id, () => 2_000, HOUR), { ok: false, availableNano: 1_000, heldNano: 0 });
  });
});

describe('checkpoints on the writer thread', () => {
  /** A migrated file with one funded key, and a thread on it with the given checkpoint timing. */
  async function threadOn(timing: CheckpointTiming) {
    const path = join(scratch(), 'gw.db');
    const setup = await openStore(`file:${path}`);
    const { row } = await createKey(setup, { name: 'wal', creditNano: 1e15 });
    await setup.close();
    const file = new SQLite(path);
    const local = new LocalCredit();
    local.setBalance(row.id, 1e15);
    const writer = startSettlementWorker(file, path, local, assert.fail, { checkpoints: timing });
    const logs: CheckpointResult[] = [];
    writer.onCheckpoint = (r) => logs.push(r);
    const batch = () => {
      const items = [];
      for (let i = 0; i < 64; i++) items.push({ reservation: local.reserve(row.id, 1_000, HOUR), usage: usageRecord(row.id, 1_000) });
      return writer.settle(items);
    };
    const close = async () => {
      await writer.stop();
      file.close();
    };
    return { path, file, writer, logs, batch, close };
  }
  /** The thread answers in order: once this answer is here, so is every checkpoint it posted before. */
  const caughtUp = (writer: SettlementWorker) => writer.dataVersion();

  it('a checkpoint after a commit lets the next commit start the WAL over', { timeout: 30_000 }, async () => {
    const t = await threadOn({ afterCommitEveryMs: 0, timerEveryMs: HOUR });
    for (let i = 0; i < 30; i++) await t.batch();
    await caughtUp(t.writer);
    await t.close();
    assert.equal(t.logs.length, 30, 'one checkpoint after each commit');
    assert.ok(t.logs.every((c) => c.checkpointed === c.log), 'each copied the whole WAL');
    // Had it grown instead, the last checkpoint would find every batch's frames in it.
    const frames = t.logs.map((c) => c.log);
    const written = frames.reduce((a, b) => a + b, 0);
    assert.ok(Math.max(...frames) < written / 5, `the WAL started over at each commit (${frames.join(', ')} frames)`);
    // Each batch of 64 went in pieces of 16 rows: every row and charge is there, once.
    const file = new SQLite(t.path, { readonly: true });
    assert.equal((file.prepare('select count(*) as n from usage').get() as { n: number }).n, 30 * 64);
    assert.equal((file.prepare("select count(distinct request_id) as n from ledger where kind = 'charge'").get() as { n: number }).n, 30 * 64);
    assert.equal((file.prepare('select balance_nano as b from api_keys').get() as { b: number }).b, 1e15 - 30 * 64 * 1_000);
    file.close();
  });

  it('frames a reader held back are checkpointed after the next commit, not a quarter second later', { timeout: 30_000 }, async () => {
    const t = await threadOn({ afterCommitEveryMs: HOUR, timerEveryMs: HOUR });
    const reader = new SQLite(t.path, { readonly: true });
    reader.exec('begin');
    reader.prepare('select count(*) from usage').get(); // a snapshot from before the first batch
    await t.batch(); // the first checkpoint is due, but cannot copy what the reader still sees
    await caughtUp(t.writer);
    assert.equal(t.logs.length, 1);
    assert.ok(t.logs[0].checkpointed < t.logs[0].log, `held back (${t.logs[0].checkpointed} of ${t.logs[0].log})`);
    reader.exec('commit');
    await t.batch(); // behind: checkpointed at once, whole
    await t.batch(); // caught up: the next is an hour away; this commit started the WAL over
    await caughtUp(t.writer);
    assert.equal(t.logs.length, 2);
    assert.equal(t.logs[1].checkpointed, t.logs[1].log);
    const [now] = t.file.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    assert.ok(now.log < t.logs[1].log, `the WAL started over (${now.log} frames, was ${t.logs[1].log})`);
    reader.close();
    await t.close();
  });
});

describe('a writer thread that fails', () => {
  it('hands settlements and checkpoints back to the gateway connection and says so', async () => {
    const dir = scratch();
    const file = new SQLite(join(dir, 'gw.db'));
    file.pragma('journal_mode = WAL');
    const failed = new Promise<Error>((resolve) => {
      // A directory is not a database the thread can open.
      const writer = startSettlementWorker(file, dir, new LocalCredit(), resolve);
      assert.equal(writer.running, true);
    });
    assert.match((await failed).message, /SQLITE_CANTOPEN/);
    assert.equal(file.pragma('wal_autocheckpoint', { simple: true }), 1_000);
    file.close();
  });

  /** A gateway store whose writer thread ends the moment its first settlement has committed, unanswered. */
  async function storeWhoseThreadDiesAfterCommit() {
    const dir = scratch();
    const driver = join(dir, 'dies-after-commit.cjs');
    writeFileSync(driver, `
      const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      module.exports = function DiesAfterCommit(...args) {
        const db = new Database(...args);
        const transaction = db.transaction.bind(db);
        db.transaction = (fn) => {
          const tx = transaction(fn);
          return Object.assign((...a) => tx(...a), { immediate: (...a) => { tx.immediate(...a); process.exit(7); } });
        };
        return db;
      };`);
    const failures: Error[] = [];
    const store = await openStore(`file:${join(dir, 'gw.db')}`, { writerThread: { driver }, onWriterFailure: (err) => failures.push(err) });
    const close = async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    };
    return { store, failures, close };
  }

  it('dies after a commit, before its answer: the batch is retried here, charged once, and every reservation released', async () => {
    const { store, failures, close } = await storeWhoseThreadDiesAfterCommit();
    const { row } = await createKey(store, { name: 'lost answer', creditNano: 100_000 });
    const a = await reserve(store, row.id, 30_000);
    const b = await reserve(store, row.id, 50_000);
    store.local!.resize(a.id, 20_000); // as each request's end does: its reservation becomes its cost
    store.local!.resize(b.id, 15_000);
    const writer = new SettlementWriter(store, pino({ level: 'silent' }));
    const results = await Promise.all([writer.submit({ reservation: a, usage: usageRecord(row.id, 20_000) }), writer.submit({ reservation: b, usage: usageRecord(row.id, 15_000) })]);

    assert.match(String(failures[0]?.message), /exited with code 7/);
    assert.equal(store.writer!.running, false);
    assert.deepEqual(results.map((r) => r.duplicate), [true, true], 'retried on the gateway connection, found written');
    assert.deepEqual(await money(store, row.id), { balance: 65_000, reserved: 0, spent: 35_000 });
    assert.equal((await store.db.selectFrom('usage').select('id').where('key_id', '=', row.id).execute()).length, 2);
    assert.deepEqual((await verifyLedger(store)).mismatches, []);
    // Nothing is still held for the two finished requests: all 65,000 can be reserved, and not a nano more.
    assert.equal((await reserveCredit(store, row.id, () => 65_001, HOUR)).ok, false);
    const rest = await reserve(store, row.id, 65_000);
    assert.equal(await pragma(store, 'wal_autocheckpoint'), 1_000, 'the gateway connection checkpoints again');
    // And settlements go on, on the gateway connection.
    store.local!.resize(rest.id, 5_000);
    assert.deepEqual(await writer.submit({ reservation: rest, usage: usageRecord(row.id, 5_000) }), { chargedNano: 5_000, uncoveredNano: 0, duplicate: false });
    assert.deepEqual(await money(store, row.id), { balance: 60_000, reserved: 0, spent: 40_000 });
    await close();
  });

  it('a balance read in flight when it dies is read on the gateway connection: the request still gets its credit', async () => {
    const { store, failures, close } = await storeWhoseThreadDiesAfterCommit();
    const { row: first } = await createKey(store, { name: 'settling', creditNano: 10_000 });
    const { row: second } = await createKey(store, { name: 'reading', creditNano: 7_000 });
    const r = await reserve(store, first.id, 4_000);
    const settling = settleCredits(store, [{ reservation: r, usage: usageRecord(first.id, 4_000) }]);
    // The second key's balance is unknown to the mirror: its read goes to the thread, behind the batch.
    const reserving = reserveCredit(store, second.id, (available) => available, HOUR);
    await assert.rejects(settling, /thread stopped/); // the settlement writer retries it (test above)
    const outcome = await reserving;
    assert.ok(outcome.ok, 'reserved on the gateway connection');
    assert.equal(outcome.reservation.amountNano, 7_000);
    assert.equal(failures.length, 1);
    await close();
  });

  it('once stopping, it refuses new work at once instead of leaving it unanswered', async () => {
    const store = await openStore(`file:${join(scratch(), 'gw.db')}`, { writerThread: true });
    const { row } = await createKey(store, { name: 'stopping', creditNano: 1_000 });
    const before = store.writer!.readBalance(row.id);
    const stopping = store.writer!.stop();
    await assert.rejects(store.writer!.readBalance(row.id), /not running/);
    assert.equal(await before, 1_000, 'what was asked before the stop is answered');
    await stopping;
    await store.close();
  });

  it('without the option (the CLI) there is no thread and SQLite checkpoints as by default', async () => {
    const store = await openStore(`file:${join(scratch(), 'cli.db')}`);
    assert.equal(store.writer, undefined);
    assert.equal(await pragma(store, 'wal_autocheckpoint'), 1_000);
    await store.close();
  });
});
