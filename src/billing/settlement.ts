// Settling requests (DESIGN.md section 4): each request's usage record, its charge as a ledger row, and
// its reservation released, in one transaction for a whole batch (settlement-writer.ts batches them).
//
// A request is charged its real cost, but never more than the balance holds beyond the *other* open
// reservations: so no settlement can take a balance below zero or spend credit another running request
// has reserved. While a request's own reservation is held that limit is at least the reservation; when
// the sweep already released it (expired) or the cost exceeds it (a prompt the tokenizer underestimated,
// a fallback to a dearer model), only credit nobody else holds can pay, and the rest is reported as
// uncovered (the operator's loss, logged).
//
// Almost always every request of a batch fits, so the batch is first written optimistically: rows first,
// then one guarded UPDATE per key (`… where balance - (reserved - released) >= charged`), which holds the
// key's row lock only from that statement to the commit and so barely delays reservations on the same
// key. If a guard fails, the transaction is rolled back and redone with the key rows locked up front,
// charging each request in turn at most what is then free.

import { CompiledQuery, sql, type Insertable, type Transaction } from 'kysely';
import type { Store } from '../store/database.js';
import type { Database, LedgerTable, UsageTable } from '../store/schema.js';
import type { Reservation } from './credit.js';
import { chargeBatch, freshItems, type ChargeItem, type KeyFunds } from './settlement-charges.js';
import { keepBounded } from '../bounded-cache.js';

export type UsageRecord = Omit<UsageTable, 'created_at'> & { created_at?: number };

/** One request to settle: its usage record (cost_nano = the full cost) and its reservation, if any. */
export interface Settlement {
  reservation?: Reservation;
  usage: UsageRecord;
}

export interface SettlementResult {
  /** What the key was charged (never more than it could pay). */
  chargedNano: number;
  /** Cost the key could not cover (an expired reservation, or a cost above the estimate). */
  uncoveredNano: number;
  /** The record already existed (a retry after a commit whose answer was lost): nothing was done. */
  duplicate: boolean;
}

/** A key could not pay every charge of the optimistic pass. */
class ChargeDoesNotFit extends Error {}

/**
 * Settles a batch in one transaction. Idempotent per request id (the usage record's primary key), so a
 * batch whose commit answer was lost can simply be retried.
 */
export async function settleCredits(store: Store, items: Settlement[], { busy = false }: { /** A full batch: the writer thread skips its pauses. */ busy?: boolean } = {}): Promise<SettlementResult[]> {
  if (!items.length) return [];
  // The gateway on SQLite: the same rules, on the writer thread (settlement-thread.ts).
  if (store.writer?.running) return store.writer.settle(items, busy);
  try {
    return await settleBatch(store, items, false);
  } catch (err) {
    if (!(err instanceof ChargeDoesNotFit)) throw err;
    return settleBatch(store, items, true);
  }
}

async function settleBatch(store: Store, items: Settlement[], clamp: boolean): Promise<SettlementResult[]> {
  let undoLocal: (() => void) | undefined;
  return store.db.transaction().execute(async (tx) => {
    const now = Date.now();
    const ids = items.map((i) => i.usage.id);
    const written = await tx.executeQuery<{ id: string }>(CompiledQuery.raw(writtenIdsText(tx, store.dialect, items.length), ids));
    const fresh = freshItems(ids, written.rows.map((r) => r.id));
    const reserved = fresh.map((i) => items[i].reservation).filter((r) => r !== undefined);
    const local = store.local;
    // Reservation rows first, key rows after (see credit.ts): nobody holding a key row waits for these.
    const held = new Map<string, number>();
    if (local) {
      for (const r of reserved) held.set(r.id, local.amountHeld(r.id));
    } else if (reserved.length) {
      for (const r of await tx.deleteFrom('reservations').where('id', 'in', reserved.map((r) => r.id)).returning(['id', 'amount_nano']).execute()) held.set(r.id, r.amount_nano);
    }
    const funds = clamp ? await lockKeys(tx, store, [...new Set(reserved.map((r) => r.keyId))].sort()) : undefined;
    const batch = chargeBatch(items.map(chargeItem), fresh, (id) => held.get(id) ?? 0, funds);

    const ledger: Array<Insertable<LedgerTable>> = [];
    for (const [i, charge] of batch.charges) {
      const { usage, reservation } = items[i];
      if (charge > 0) ledger.push({ key_id: reservation!.keyId, kind: 'charge', amount_nano: -charge, request_id: usage.id, note: usage.model, created_at: now });
    }
    if (ledger.length) await insertRows(tx, store.dialect, 'ledger', ledger, (row, column) => row[column as keyof typeof row]);
    if (fresh.length) {
      await insertRows(tx, store.dialect, 'usage', fresh, (i, column) =>
        column === 'cost_nano' ? (batch.charges.get(i) ?? 0) : column === 'created_at' ? (items[i].usage.created_at ?? now) : items[i].usage[column as keyof UsageRecord],
      );
    }
    for (const [keyId, { charged, released }] of batch.totals) {
      if (local ? !charged : !charged && !released) continue;
      // What the key's other requests hold: in the row, or in this process on SQLite.
      const othersHold = local ? sql`${local.reservedOf(keyId) - released}` : sql`(reserved_nano - ${released})`;
      let update = tx
        .updateTable('api_keys')
        .set({
          ...(local ? {} : { reserved_nano: sql`reserved_nano - ${released}` }),
          balance_nano: sql`balance_nano - ${charged}`,
          spent_nano: sql`spent_nano + ${charged}`,
        })
        .where('id', '=', keyId);
      // The optimistic pass charges in full only if the key can pay it all beyond the other reservations.
      if (!funds) update = update.where(sql<boolean>`balance_nano - ${othersHold} >= ${charged}`);
      const result = await update.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0 && !funds) throw new ChargeDoesNotFit();
    }
    if (local) {
      // The last step before the commit (see local-credit.ts); undone if the commit fails.
      const charged = new Map([...batch.totals].map(([keyId, t]) => [keyId, t.charged]));
      undoLocal = local.settle({ charged, reservationIds: batch.released });
      local.forget(batch.staleKeys);
    }
    return batch.results;
  }).catch((err) => {
    undoLocal?.();
    throw err;
  });
}

const chargeItem = ({ usage, reservation }: Settlement): ChargeItem => ({ id: usage.id, cost: usage.cost_nano, ...(reservation ? { reservation } : {}) });

/** The columns of the batched inserts, in the order of their values; every column of the table. */
export const COLUMNS = {
  usage: ['id', 'key_id', 'model', 'provider', 'deployment', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cache_write_tokens',
    'reasoning_tokens', 'cost_nano', 'status', 'http_status', 'error_code', 'estimated', 'stream', 'latency_ms', 'ttft_ms', 'created_at'],
  ledger: ['key_id', 'kind', 'amount_nano', 'request_id', 'note', 'created_at'],
} as const satisfies { usage: ReadonlyArray<keyof UsageTable>; ledger: ReadonlyArray<keyof LedgerTable> };
// A column added to a table and not to its list above fails the type check here.
type Unlisted = Exclude<keyof UsageTable, (typeof COLUMNS.usage)[number]> | Exclude<keyof LedgerTable, (typeof COLUMNS.ledger)[number] | 'id'>;
const allColumnsListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allColumnsListed;

/** SQL text of the batched statements by dialect, table and row count (batches hold at most 64 records). */
const statementText = new Map<string, string>();

/** The text the query builder writes for this key, written once (row counts are few). */
const cachedText = (key: string, build: () => string): string => statementText.get(key) ?? keepBounded(statementText, key, build(), 1_000);

/** The usage records of a batch already written (a batch retried after its commit answer was lost). */
function writtenIdsText(tx: Transaction<Database>, dialect: Store['dialect'], count: number): string {
  return cachedText(`${dialect} written ${count}`, () => tx.selectFrom('usage').select('id').where('id', 'in', Array<string>(count).fill('')).compile().sql);
}

/**
 * One multi-row INSERT whose SQL text the query builder writes once per row count: building it anew
 * for every batch (a node per value, then a parameter list grown value by value) was a third of a
 * settlement's CPU time and its largest allocation. A usage record already written is skipped. Values
 * are bound in the column order of COLUMNS, read through `valueOf` (so no row object is copied for it).
 */
async function insertRows<T>(
  tx: Transaction<Database>,
  dialect: Store['dialect'],
  table: 'usage' | 'ledger',
  rows: T[],
  valueOf: (row: T, column: string) => unknown,
): Promise<void> {
  const columns: readonly string[] = COLUMNS[table];
  const params: unknown[] = [];
  for (const r of rows) for (const c of columns) params.push(valueOf(r, c) ?? null);
  const text = cachedText(`${dialect} ${table} ${rows.length}`, () => {
    const template = rows.map((r) => Object.fromEntries(columns.map((c) => [c, valueOf(r, c) ?? null])));
    return (table === 'usage'
      ? tx.insertInto('usage').values(template as Array<Insertable<UsageTable>>).onConflict((oc) => oc.column('id').doNothing())
      : tx.insertInto('ledger').values(template as Array<Insertable<LedgerTable>>)
    ).compile().sql;
  });
  await tx.executeQuery(CompiledQuery.raw(text, params));
}

async function lockKeys(tx: Transaction<Database>, store: Store, keyIds: string[]): Promise<Map<string, KeyFunds>> {
  const balances = new Map<string, KeyFunds>();
  if (!keyIds.length) return balances;
  const query = tx.selectFrom('api_keys').select(['id', 'balance_nano', 'reserved_nano']).where('id', 'in', keyIds).orderBy('id');
  for (const k of await (store.dialect === 'postgres' ? query.forUpdate() : query).execute()) {
    balances.set(k.id, { balance: k.balance_nano, reserved: store.local ? store.local.reservedOf(k.id) : k.reserved_nano });
  }
  return balances;
}
