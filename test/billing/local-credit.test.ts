// SQLite keeps open reservations in the gateway process (src/billing/local-credit.ts): the mirror of
// each balance, settlements moving it, a failed commit undone, expiry, and writes by another connection
// (the CLI) noticed through data_version. Through the gateway: a request leaves the database untouched
// until it settles, and credit added by the CLI is usable within the check interval.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCredit } from '../../src/billing/local-credit.js';
import { addCredit, foreignWriteCheck, reserveCredit } from '../../src/billing/credit.js';
import { settleCredits } from '../../src/billing/settlement.js';
import { openStore, sqlitePath, type Store } from '../../src/store/database.js';
import { createKey } from '../../src/store/api-keys.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { money, postChat, settled, storeOf, usageRecord } from './support/billing-helpers.js';
import { openaiJson, usage } from './support/replies.js';

const HOUR = 3_600_000;

describe('LocalCredit', () => {
  it('holds reservations against the mirrored balance and releases them when settled', () => {
    const local = new LocalCredit();
    assert.equal(local.known('k'), undefined);
    local.setBalance('k', 1_000);
    const a = local.reserve('k', 300, HOUR);
    const b = local.reserve('k', 200, HOUR);
    assert.deepEqual(local.known('k'), { balance: 1_000, reserved: 500 });
    assert.equal(local.amountHeld(a.id), 300);
    local.settle({ charged: new Map([['k', 120]]), reservationIds: [a.id] });
    assert.deepEqual(local.known('k'), { balance: 880, reserved: 200 });
    assert.equal(local.amountHeld(a.id), 0);
    assert.equal(local.amountHeld(b.id), 200);
  });

  it('sets a finished request\'s reservation to its cost before the settlement is written, growing it only into free credit', () => {
    const local = new LocalCredit();
    local.setBalance('k', 1_000);
    const a = local.reserve('k', 800, HOUR);
    local.resize(a.id, 150);
    assert.deepEqual(local.known('k'), { balance: 1_000, reserved: 150 });
    const b = local.reserve('k', 700, HOUR);
    local.resize(a.id, 400); // a cost above the estimate: 150 more are free, not 250
    assert.equal(local.amountHeld(a.id), 300);
    assert.deepEqual(local.known('k'), { balance: 1_000, reserved: 1_000 });
    local.resize(b.id, 100);
    local.resize(a.id, 400);
    assert.equal(local.amountHeld(a.id), 400);
    assert.deepEqual(local.known('k'), { balance: 1_000, reserved: 500 });
  });

  it('undoes a settlement whose commit failed, and then reads the balance again', () => {
    const local = new LocalCredit();
    local.setBalance('k', 1_000);
    const a = local.reserve('k', 300, HOUR);
    const undo = local.settle({ charged: new Map([['k', 250]]), reservationIds: [a.id] });
    undo();
    assert.equal(local.amountHeld(a.id), 300);
    assert.equal(local.reservedOf('k'), 300);
    assert.equal(local.known('k'), undefined, 'the balance is unknown until read again');
  });

  it('releases expired reservations and forgets balances another writer may have changed', () => {
    const local = new LocalCredit();
    local.setBalance('k', 1_000);
    local.setBalance('idle', 50);
    const gone = local.reserve('k', 400, 1);
    local.reserve('k', 100, HOUR);
    assert.equal(local.releaseExpired(Date.now() + 10), 1);
    assert.equal(local.amountHeld(gone.id), 0);
    assert.equal(local.reservedOf('k'), 100);
    local.forget();
    assert.equal(local.known('k'), undefined);
    assert.equal(local.reservedOf('k'), 100, 'open reservations outlive a forgotten balance');
    assert.equal(local.known('idle'), undefined);
  });
});

// Settled on the connection itself (the CLI's way), and on the writer thread (the gateway's).
for (const writerThread of [false, true]) describe(`credit on SQLite, held in process${writerThread ? ', settled on the writer thread' : ''}`, () => {
  let dir: string;
  let url: string;
  let store: Store;
  let cli: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omnigate-local-credit-'));
    url = `file:${join(dir, 'credit.db')}`;
    store = await openStore(url, { writerThread });
    cli = await openStore(url); // another connection, as the CLI has
  });
  after(async () => {
    await store?.close();
    await cli?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reserves without writing, and settles into the database', async () => {
    const { row } = await createKey(store, { name: 'local', creditNano: 100_000 });
    const outcome = await reserveCredit(store, row.id, () => 60_000, HOUR);
    assert.ok(outcome.ok);
    assert.equal((await reserveCredit(store, row.id, () => 60_000, HOUR)).ok, false, 'only 40,000 left');
    const reservations = await store.db.selectFrom('reservations').selectAll().execute();
    assert.deepEqual(reservations, []);
    const raw = await store.db.selectFrom('api_keys').select('reserved_nano').where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(raw.reserved_nano, 0, 'the row holds no reservation');
    assert.deepEqual(await money(store, row.id), { balance: 100_000, reserved: 60_000, spent: 0 });
    await settleCredits(store, [{ reservation: outcome.reservation, usage: usageRecord(row.id, 25_000) }]);
    assert.deepEqual(await money(store, row.id), { balance: 75_000, reserved: 0, spent: 25_000 });
    assert.equal((await reserveCredit(store, row.id, () => 75_000, HOUR)).ok, true, 'the mirror moved with the charge');
  });

  it('sees credit added and removed by another connection once the check has run', async () => {
    const { row } = await createKey(store, { name: 'cli-credit', creditNano: 10_000 });
    const check = foreignWriteCheck(store);
    await check();
    assert.equal((await reserveCredit(store, row.id, () => 50_000, HOUR)).ok, false);
    await addCredit(cli, row.id, 90_000);
    await check();
    const big = await reserveCredit(store, row.id, () => 50_000, HOUR);
    assert.ok(big.ok, 'the added credit is usable');
    await addCredit(cli, row.id, -40_000); // 60,000 left, 50,000 of it held
    await check();
    const outcome = await reserveCredit(store, row.id, () => 20_000, HOUR);
    assert.deepEqual(outcome, { ok: false, availableNano: 10_000, heldNano: 50_000 });
  });

  it('keeps credit added through this connection current without a check', async () => {
    const { row } = await createKey(store, { name: 'admin-credit', creditNano: 1_000 });
    assert.equal((await reserveCredit(store, row.id, () => 5_000, HOUR)).ok, false);
    await addCredit(store, row.id, 9_000);
    assert.equal((await reserveCredit(store, row.id, () => 5_000, HOUR)).ok, true);
  });
});

describe('gateway on SQLite with credit held in process', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('answers with credit the CLI added while it runs, within the check interval', async () => {
    const key = await h.createKey({ credit_usd: 0 });
    const refused = await postChat(h, key.key, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    assert.equal(refused.status, 402);
    const dbFile = sqlitePath(h.gateway.gw.config.databaseUrl);
    const cli = await openStore(`file:${dbFile}`);
    try {
      await addCredit(cli, key.id, 1_000_000_000);
    } finally {
      await cli.close();
    }
    let status = 0;
    for (const deadline = Date.now() + 3_000; status !== 200 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 100));
      h.sim.enqueue(openaiJson(usage(10, 2)));
      status = (await postChat(h, key.key, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 })).status;
    }
    assert.equal(status, 200);
    await settled(h);
    const m = await money(storeOf(h), key.id);
    assert.equal(m.reserved, 0);
    assert.equal(m.spent, 10 * 2_000 + 2 * 8_000);
  });
});
