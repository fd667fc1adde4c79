// The ledger is append-only: every credit and every charge is a row, and a key's balance must equal
// the sum of its rows. verifyLedger proves it for every key (`omnigate ledger verify`), together with
// the other invariants credit.ts keeps (see its header). It reads everything in one statement, so on a
// live PostgreSQL it sees one consistent snapshot.

import { sql } from 'kysely';
import type { Store } from '../store/database.js';

export type LedgerCheck =
  /** balance = Σ ledger rows */
  | 'balance_equals_ledger'
  /** balance ≥ 0 */
  | 'balance_not_negative'
  /** spent = Σ charges */
  | 'spent_equals_charges'
  /** Σ usage record costs = Σ charges: every charge has its record and no record was charged twice */
  | 'usage_equals_charges'
  /** reserved = Σ open reservations */
  | 'reserved_equals_reservations';

export interface LedgerMismatch {
  key_id: string;
  check: LedgerCheck;
  expected_nano: number;
  actual_nano: number;
}

export interface LedgerReport {
  ok: boolean;
  keys: number;
  mismatches: LedgerMismatch[];
}

interface KeyTotals {
  id: string;
  balance_nano: number | string;
  reserved_nano: number | string;
  spent_nano: number | string;
  ledger_sum: number | string;
  charges_sum: number | string;
  usage_sum: number | string;
  reservations_sum: number | string;
}

export async function verifyLedger(store: Store): Promise<LedgerReport> {
  const { rows } = await sql<KeyTotals>`
    select k.id, k.balance_nano, k.reserved_nano, k.spent_nano,
      coalesce((select sum(l.amount_nano) from ledger l where l.key_id = k.id), 0) as ledger_sum,
      coalesce((select -sum(l.amount_nano) from ledger l where l.key_id = k.id and l.kind = 'charge'), 0) as charges_sum,
      coalesce((select sum(u.cost_nano) from usage u where u.key_id = k.id), 0) as usage_sum,
      coalesce((select sum(r.amount_nano) from reservations r where r.key_id = k.id), 0) as reservations_sum
    from api_keys k
    order by k.id`.execute(store.db);
  const mismatches: LedgerMismatch[] = [];
  for (const r of rows) {
    // PostgreSQL returns sums of bigint as numeric (a string); every figure fits a double exactly.
    const n = (v: number | string) => Number(v);
    const check = (name: LedgerCheck, expected: number, actual: number, ok = expected === actual) => {
      if (!ok) mismatches.push({ key_id: r.id, check: name, expected_nano: expected, actual_nano: actual });
    };
    check('balance_equals_ledger', n(r.ledger_sum), n(r.balance_nano));
    check('balance_not_negative', 0, n(r.balance_nano), n(r.balance_nano) >= 0);
    check('spent_equals_charges', n(r.charges_sum), n(r.spent_nano));
    check('usage_equals_charges', n(r.charges_sum), n(r.usage_sum));
    check('reserved_equals_reservations', n(r.reservations_sum), n(r.reserved_nano));
  }
  return { ok: mismatches.length === 0, keys: rows.length, mismatches };
}
