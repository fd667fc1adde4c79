import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from './database.js';
import { startWalCheckpointer, type CheckpointResult } from './wal-checkpointer.js';

// The worker is unref'd (it must not keep a finished gateway alive): something else keeps these tests' loop running.
let keepAlive: NodeJS.Timeout;
before(() => (keepAlive = setInterval(() => {}, 1_000)));
after(() => clearInterval(keepAlive));

const scratch = () => mkdtempSync(join(tmpdir(), 'omnigate-wal-'));

test('the worker checkpoints what the gateway connection commits, which no longer checkpoints itself', { timeout: 30_000 }, async () => {
  const path = join(scratch(), 'gw.db');
  const store = await openStore(`file:${path}`, { backgroundCheckpoints: true });
  const pragma = async (text: string) => Object.values((await sql.raw<Record<string, number>>(`PRAGMA ${text}`).execute(store.db)).rows[0]!)[0];
  assert.equal(await pragma('wal_autocheckpoint'), 0);
  const dataVersion = await pragma('data_version');

  const caughtUp = new Promise<CheckpointResult>((resolve) => {
    store.checkpointer!.onCheckpoint = (r) => r.log >= 2_000 && r.checkpointed === r.log && resolve(r);
  });
  await sql`create table filler (body text)`.execute(store.db);
  // ~2,500 pages in 25 commits: past SQLite's own 1,000-page mark, so only the worker can fold them in.
  for (let i = 0; i < 25; i++) {
    await store.db.transaction().execute(async (tx) => {
      for (let j = 0; j < 100; j++) await sql`insert into filler (body) values (${'x'.repeat(4_000)})`.execute(tx);
    });
  }
  const result = await caughtUp;
  assert.ok(result.log >= 2_000, `the WAL held every commit (${result.log} frames) until the worker folded it in`);
  assert.equal(await pragma('data_version'), dataVersion, 'a checkpoint is not a write by another connection');
  await store.close();

  const reopened = new SQLite(path, { readonly: true });
  assert.equal((reopened.prepare('select count(*) as n from filler').get() as { n: number }).n, 2_500);
  reopened.close();
});

test('checkpoints right after reported commits keep the WAL starting over instead of growing', { timeout: 30_000 }, async (t) => {
  const store = await openStore(`file:${join(scratch(), 'gw.db')}`, { backgroundCheckpoints: true });
  t.after(() => store.close());
  let largest = 0;
  store.checkpointer!.onCheckpoint = (r) => (largest = Math.max(largest, r.log));
  await sql`create table filler (body text)`.execute(store.db);
  // ~3,000 pages in 30 commits, as the settlement writer makes them: a commit, then a pause.
  for (let i = 0; i < 30; i++) {
    await store.db.transaction().execute(async (tx) => {
      for (let j = 0; j < 100; j++) await sql`insert into filler (body) values (${'x'.repeat(4_000)})`.execute(tx);
    });
    store.checkpointer!.committed();
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.ok(largest > 0, 'the worker checkpointed');
  assert.ok(largest < 2_000, `the WAL started over (at most ${largest} frames of ~3,000 written)`);
});

test('a worker that cannot run hands checkpoints back to the connection and says so', async () => {
  const dir = scratch();
  const file = new SQLite(join(dir, 'gw.db'));
  file.pragma('journal_mode = WAL');
  const failed = new Promise<Error>((resolve) => {
    // A directory is not a database the worker can open.
    startWalCheckpointer(file, dir, resolve);
  });
  assert.match((await failed).message, /SQLITE_CANTOPEN/);
  assert.equal(file.pragma('wal_autocheckpoint', { simple: true }), 1_000);
  file.close();
});

test('without the option (the CLI) the connection checkpoints as SQLite does by default', async () => {
  const store = await openStore(`file:${join(scratch(), 'cli.db')}`);
  assert.equal(store.checkpointer, undefined);
  const { rows } = await sql.raw<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint').execute(store.db);
  assert.equal(rows[0]!.wal_autocheckpoint, 1_000);
  await store.close();
});
