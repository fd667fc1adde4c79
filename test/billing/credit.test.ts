// The money layer on its own (src/billing/credit.ts, settlement-writer.ts, ledger.ts), on SQLite and on
// PostgreSQL: reservations under contention from several connection pools, settlement that happens
// once, expired reservations, debits, the writer that never drops a record, and the ledger check.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/database.js';
import { createKey } from '../../src/store/api-keys.js';
import { addCredit, NegativeBalanceError, releaseExpiredReservations, reserveCredit, type Reservation } from '../../src/billing/credit.js';
import { settleCredits, type UsageRecord } from '../../src/billing/settlement.js';
import { SettlementWriter } from '../../src/billing/settlement-writer.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { backendKinds, openBackend, type Backend } from './support/backends.js';
import { money } from './support/billing-helpers.js';

const HOUR = 3_600_000;

function usageRecord(keyId: string, costNano: number, id = randomUUID()): UsageRecord {
  return {
    id, key_id: keyId, model: 'gpt-4.1', provider: 'openai', deployment: null, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0,
    cache_write_tokens: 0, reasoning_tokens: 0, cost_nano: costNano, status: 'ok', http_status: 200, error_code: null, estimated: 0,
    stream: 0, latency_ms: 1, ttft_ms: null,
  };
}

async function reserve(store: Store, keyId: string, amount: number, ttlMs = HOUR): Promise<Reservation | undefined> {
  const outcome = await reserveCredit(store, keyId, () => amount, ttlMs);
  return outcome.ok ? outcome.reservation : undefined;
}

for (const { kind, skip } of await backendKinds()) {
  describe(`credit ledger on ${kind}`, { skip }, () => {
    let backend: Backend;
    let dir: string;
    let url: string;
    let store: Store;

    before(async () => {
      backend = await openBackend(kind);
      dir = mkdtempSync(join(tmpdir(), 'omnigate-credit-'));
      url = backend.env.DATABASE_URL ?? `file:${join(dir, 'credit.db')}`;
      store = await openStore(url);
    });
    after(async () => {
      await store?.close();
      await backend?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('never reserves more than the balance, whatever the contention (several pools on PostgreSQL)', async () => {
      const { row } = await createKey(store, { name: 'contended', creditNano: 1_000_000 });
      // On PostgreSQL three pools stand for three instances; SQLite is one process, one connection.
      const stores = kind === 'sqlite' ? [store] : [store, await openStore(url), await openStore(url)];
      try {
        // Half fixed-size reservations, half sized from what is left (as prepare.ts caps the output).
        const outcomes = await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            reserveCredit(stores[i % stores.length], row.id, (available) => (i % 2 ? 7_000 : Math.min(13_000, available)), HOUR),
          ),
        );
        const reserved = outcomes.filter((o) => o.ok).reduce((sum, o) => sum + (o.ok ? o.reservation.amountNano : 0), 0);
        const m = await money(store, row.id);
        assert.ok(reserved <= 1_000_000, `reserved ${reserved}`);
        assert.equal(m.reserved, reserved);
        assert.ok(reserved > 1_000_000 - 13_000, 'the credit was used, not refused spuriously');
      } finally {
        for (const s of stores.slice(1)) await s.close();
      }
    });

    it('charges the real cost, releases the rest, and settles each request once', async () => {
      const { row } = await createKey(store, { name: 'settle', creditNano: 100_000 });
      const a = (await reserve(store, row.id, 40_000))!;
      const b = (await reserve(store, row.id, 40_000))!;
      assert.equal(await reserve(store, row.id, 40_000), undefined, 'only 20,000 left unreserved');
      const ua = usageRecord(row.id, 12_345);
      const ub = usageRecord(row.id, 40_000);
      const results = await settleCredits(store, [{ reservation: a, usage: ua }, { reservation: b, usage: ub }]);
      assert.deepEqual(results.map((r) => r.chargedNano), [12_345, 40_000]);
      // The same batch again (a retry after a lost commit answer) changes nothing.
      const again = await settleCredits(store, [{ reservation: a, usage: ua }, { reservation: b, usage: ub }]);
      assert.deepEqual(again.map((r) => r.duplicate), [true, true]);
      assert.deepEqual(await money(store, row.id), { balance: 100_000 - 52_345, reserved: 0, spent: 52_345 });
      const rows = await store.db.selectFrom('usage').select(['id', 'cost_nano']).where('key_id', '=', row.id).orderBy('cost_nano').execute();
      assert.deepEqual(rows.map((r) => r.cost_nano), [12_345, 40_000]);
    });

    it('charges a cost above the reservation only from credit nobody else holds', async () => {
      const { row } = await createKey(store, { name: 'over', creditNano: 100_000 });
      const mine = (await reserve(store, row.id, 10_000))!;
      await reserve(store, row.id, 80_000); // another request's, still running
      const [result] = await settleCredits(store, [{ reservation: mine, usage: usageRecord(row.id, 50_000) }]);
      assert.deepEqual([result.chargedNano, result.uncoveredNano], [20_000, 30_000]);
      assert.deepEqual(await money(store, row.id), { balance: 80_000, reserved: 80_000, spent: 20_000 });
    });

    it('releases expired reservations, and a late settlement then takes only what is free', async () => {
      const { row } = await createKey(store, { name: 'crashed', creditNano: 50_000 });
      const lost = (await reserve(store, row.id, 30_000, 1))!;
      await new Promise((r) => setTimeout(r, 5));
      assert.ok((await releaseExpiredReservations(store)) >= 1);
      assert.deepEqual(await money(store, row.id), { balance: 50_000, reserved: 0, spent: 0 });
      await reserve(store, row.id, 45_000);
      const [late] = await settleCredits(store, [{ reservation: lost, usage: usageRecord(row.id, 20_000) }]);
      assert.deepEqual([late.chargedNano, late.uncoveredNano], [5_000, 15_000]);
      assert.deepEqual(await money(store, row.id), { balance: 45_000, reserved: 45_000, spent: 5_000 });
    });

    it('refuses a debit that would take the balance below zero, and the database refuses it too', async () => {
      const { row } = await createKey(store, { name: 'debit', creditNano: 1_000 });
      assert.equal(await addCredit(store, row.id, -400), 600);
      await assert.rejects(addCredit(store, row.id, -601), NegativeBalanceError);
      assert.equal(await addCredit(store, 'key_missing', 5), undefined);
      await assert.rejects(store.db.updateTable('api_keys').set({ balance_nano: -1 }).where('id', '=', row.id).execute(), /balance_not_negative|CHECK/i);
      assert.equal((await money(store, row.id)).balance, 600);
    });

    it('writes every settlement through database failures, each exactly once', async () => {
      const { row } = await createKey(store, { name: 'flaky', creditNano: 1_000_000 });
      let failures = 3;
      const flaky: Store = {
        ...store,
        db: new Proxy(store.db, {
          get(target, prop, receiver) {
            if (prop === 'transaction' && failures > 0) {
              failures--;
              return () => ({ execute: async () => { throw new Error('connection lost'); } });
            }
            const value = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      };
      const writer = new SettlementWriter(flaky, pino({ level: 'silent' }));
      const reservations = await Promise.all(Array.from({ length: 5 }, () => reserve(store, row.id, 1_000)));
      const results = await Promise.all(reservations.map((r) => writer.submit({ reservation: r, usage: usageRecord(row.id, 700) })));
      assert.deepEqual(results.map((r) => r.chargedNano), [700, 700, 700, 700, 700]);
      assert.equal(failures, 0);
      assert.deepEqual(await money(store, row.id), { balance: 1_000_000 - 3_500, reserved: 0, spent: 3_500 });
    });

    it('at shutdown, logs in full a record the database still refuses after the deadline', async () => {
      const broken: Store = { ...store, db: { transaction: () => ({ execute: async () => { throw new Error('database down'); } }) } as any };
      const lines: any[] = [];
      const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
      const writer = new SettlementWriter(broken, log);
      const record = usageRecord('key_x', 123);
      const pending = writer.submit({ usage: record });
      await new Promise((r) => setTimeout(r, 20));
      writer.shutdown(Date.now());
      const result = await pending;
      assert.equal(result.chargedNano, 0);
      const lost = lines.find((l) => l.msg === 'usage record could not be written before shutdown');
      assert.equal(lost?.usage?.id, record.id);
      assert.equal(lost?.usage?.cost_nano, 123);
    });

    it('ledger verify proves every invariant, and catches a balance changed behind its back', async () => {
      const clean = await verifyLedger(store);
      assert.deepEqual(clean.mismatches, []);
      const { row } = await createKey(store, { name: 'tampered', creditNano: 5_000 });
      await store.db.updateTable('api_keys').set({ balance_nano: sql`balance_nano + 1` }).where('id', '=', row.id).execute();
      const report = await verifyLedger(store);
      assert.equal(report.ok, false);
      assert.deepEqual(report.mismatches, [{ key_id: row.id, check: 'balance_equals_ledger', expected_nano: 5_000, actual_nano: 5_001 }]);
      await store.db.updateTable('api_keys').set({ balance_nano: sql`balance_nano - 1` }).where('id', '=', row.id).execute();
    });
  });
}
