// The ledger is append-only: every credit and charge is a row, and a key's balance must equal the sum
// of its rows. verifyLedger proves it for every key (`omnigate ledger verify`).

import { sql } from 'kysely';
import type { Store } from '../store/database.js';

export interface LedgerReport {
  ok: boolean;
  keys: number;
  mismatches: Array<{ key_id: string; balance_nano: number; ledger_sum_nano: number }>;
}

export async function verifyLedger(store: Store): Promise<LedgerReport> {
  const rows = await store.db
    .selectFrom('api_keys')
    .leftJoin('ledger', 'ledger.key_id', 'api_keys.id')
    .select(['api_keys.id as key_id', 'api_keys.balance_nano', sql<number>`coalesce(sum(ledger.amount_nano), 0)`.as('ledger_sum_nano')])
    .groupBy(['api_keys.id', 'api_keys.balance_nano'])
    .execute();
  const mismatches = rows
    .map((r) => ({ key_id: r.key_id, balance_nano: Number(r.balance_nano), ledger_sum_nano: Number(r.ledger_sum_nano) }))
    .filter((r) => r.balance_nano !== r.ledger_sum_nano);
  return { ok: mismatches.length === 0, keys: rows.length, mismatches };
}
