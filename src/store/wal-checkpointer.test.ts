import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from './database.js';
import { startWalCheckpointer, type CheckpointResult, type WalCheckpointer } from './wal-checkpointer.js';

// The worker is unref'd (it must not keep a finished gateway alive): something else keeps these tests' loop running.
let keepAlive: NodeJS.Timeout;
before(() => (keepAlive = setInterval(() => {}, 1_000)));
after(() => clearInterval(keepAlive));

const scratch = () => mkdtempSync(join(tmpdir(), 'omnigate-wal-'));

// Tests drive the worker by reported commits only: a timer that never fires during a test, and a
// checkpoint after every reported commit, so what each test sees does not depend on the machine's speed.
const BY_COMMITS_ONLY = { afterCommitEveryMs: 0, everyMs: 3_600_000, catchUpFrames: Infinity };

function walFile() {
  const path = join(scratch(), 'gw.db');
  const file = new SQLite(path);
  file.pragma('journal_mode = WAL');
  file.exec('create table filler (body text)');
  const insert = file.prepare('insert into filler (body) values (?)');
  /** ~100 pages in one transaction, as a settlement batch writes them. */
  const commit = file.transaction(() => {
    for (let j = 0; j < 100; j++) insert.run('x'.repeat(4_000));
  });
  return { path, file, commit };
}

function checkpoints(checkpointer: WalCheckpointer) {
  let waiting: ((r: CheckpointResult) => void) | undefined;
  checkpointer.onCheckpoint = (r) => waiting?.(r);
  return () => new Promise<CheckpointResult>((resolve) => (waiting = resolve));
}

test('the gateway connection no longer checkpoints itself; the worker is there instead', async () => {
  const store = await openStore(`file:${join(scratch(), 'gw.db')}`, { backgroundCheckpoints: true });
  const { rows } = await sql.raw<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint').execute(store.db);
  assert.equal(rows[0]!.wal_autocheckpoint, 0);
  assert.ok(store.checkpointer);
  await store.close();
});

test('the WAL holds every commit until the worker, told of one, folds it all in', { timeout: 30_000 }, async () => {
  const { path, file, commit } = walFile();
  const checkpointer = startWalCheckpointer(file, path, assert.fail, BY_COMMITS_ONLY);
  const next = checkpoints(checkpointer);
  const dataVersion = file.pragma('data_version', { simple: true });
  // ~2,500 pages in 25 commits: past SQLite's own 1,000-page mark, so only the worker can fold them in.
  for (let i = 0; i < 25; i++) commit();
  const frames = (statSync(`${path}-wal`).size - 32) / (24 + 4_096);
  assert.ok(frames >= 2_000, `the WAL held every commit (${frames} frames)`);

  const checkpointed = next();
  checkpointer.committed();
  const result = await checkpointed;
  assert.equal(result.log, frames);
  assert.equal(result.checkpointed, result.log);
  assert.equal(file.pragma('data_version', { simple: true }), dataVersion, 'a checkpoint is not a write by another connection');
  await checkpointer.stop();
  file.close();

  const reopened = new SQLite(path, { readonly: true });
  assert.equal((reopened.prepare('select count(*) as n from filler').get() as { n: number }).n, 2_500);
  reopened.close();
});

test('a checkpoint right after a commit lets the next commit start the WAL over instead of growing it', { timeout: 30_000 }, async () => {
  const { path, file, commit } = walFile();
  const checkpointer = startWalCheckpointer(file, path, assert.fail, BY_COMMITS_ONLY);
  const next = checkpoints(checkpointer);
  const logs: number[] = [];
  // ~3,000 pages in 30 commits, each followed by its checkpoint, as the settlement writer's pause allows.
  for (let i = 0; i < 30; i++) {
    commit();
    const checkpointed = next();
    checkpointer.committed();
    const result = await checkpointed;
    assert.equal(result.checkpointed, result.log);
    logs.push(result.log);
  }
  await checkpointer.stop();
  file.close();
  assert.ok(Math.max(...logs) < 300, `the WAL started over at each commit (at most ${Math.max(...logs)} frames of ~3,000 written)`);
});

test('a WAL that has not been starting over gets a checkpoint after every commit until it has', { timeout: 30_000 }, async () => {
  const { path, file, commit } = walFile();
  const checkpointer = startWalCheckpointer(file, path, assert.fail, { afterCommitEveryMs: 3_600_000, everyMs: 3_600_000, catchUpFrames: 500 });
  const logs: number[] = [];
  checkpointer.onCheckpoint = (r) => logs.push(r.log);
  const reported = async () => {
    const before = logs.length;
    checkpointer.committed();
    // Whether the worker checkpoints shows only as a result; give it time to post one.
    for (let waited = 0; waited < 2_000 && logs.length === before; waited += 20) await new Promise((r) => setTimeout(r, 20));
  };
  for (let i = 0; i < 10; i++) commit();
  await reported(); // the first is due: ~1,000 frames, behind
  commit();
  await reported(); // behind, so not held back by the hour-long spacing: the WAL has started over
  commit();
  await reported(); // caught up: the spacing holds again
  await checkpointer.stop();
  file.close();
  assert.equal(logs.length, 2, `two checkpoints (${logs.join(', ')} frames)`);
  assert.ok(logs[0]! > 500 && logs[1]! < 300, `the WAL started over after catching up (${logs.join(', ')} frames)`);
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
