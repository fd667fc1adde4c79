import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStore } from './database.js';
import { createKey } from './api-keys.js';
import { addCredit } from '../billing/credit.js';

const scratch = () => join(mkdtempSync(join(tmpdir(), 'omnigate-lock-')), 'gw.db');

/** Another connection (the writer thread's, the CLI's) holding the write lock until `ms` from now. */
function holdWriteLock(path: string, ms: number): Promise<void> {
  const other = new SQLite(path);
  other.exec('begin immediate');
  return new Promise((resolve) =>
    setTimeout(() => {
      other.exec('commit');
      other.close();
      resolve();
    }, ms),
  );
}

test('a write that meets another connection\'s lock waits on a timer, with the event loop free', async () => {
  const path = scratch();
  const store = await openStore(`file:${path}`);
  const { row } = await createKey(store, { name: 'lock', creditNano: 1_000 });
  const order: string[] = [];
  const released = holdWriteLock(path, 60).then(() => order.push('lock released'));
  setTimeout(() => order.push('a timer ran'), 10);

  const statement = sql`update api_keys set name = 'renamed' where id = ${row.id}`.execute(store.db).then(() => order.push('statement'));
  const transaction = addCredit(store, row.id, 500).then((balance) => {
    order.push('transaction');
    return balance;
  });
  assert.equal(await transaction, 1_500);
  await statement;
  await released;
  assert.deepEqual(order.slice(0, 2), ['a timer ran', 'lock released'], 'the loop ran while the lock was held, and the writes came after it');
  assert.deepEqual(order.slice(2).sort(), ['statement', 'transaction']);
  await store.close();
});

test('a transaction takes the write lock when it begins: another connection cannot write in the middle of it', async () => {
  const path = scratch();
  const store = await openStore(`file:${path}`);
  const other = new SQLite(path);
  other.pragma('busy_timeout = 0');
  await store.db.transaction().execute(async (tx) => {
    await sql`select 1`.execute(tx);
    assert.throws(() => other.exec("insert into ledger (key_id, kind, amount_nano, created_at) values ('k', 'credit', 1, 0)"), /SQLITE_BUSY|database is locked/);
  });
  other.close();
  await store.close();
});
