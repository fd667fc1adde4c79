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
export async function settleCredits(store: Store, items: Settlement[]): Promise<SettlementResult[]> {
  if (!items.length) return [];
  // The gateway on SQLite: the same rules, on the writer thread (settlement-thread.ts).
  if (store.writer?.running) return store.writer.settle(items);
  try {
    return await settleBatch(store, items, false);
  } catch (err) {
    if (!(err instanceof ChargeDoesNotFit)) throw err;
    return settleBatch(store, items, true);
  }
}

const costOf = (usage: UsageRecord): number => Math.max(0, Math.ceil(usage.cost_nano));

async function settleBatch(store: Store, items: Settlement[], clamp: boolean): Promise<SettlementResult[]> {
  let undoLocal: (() => void) | undefined;
  return store.db.transaction().execute(async (tx) => {
    const now = Date.now();
    const written = await tx.executeQuery<{ id: string }>(CompiledQuery.raw(writtenIdsText(tx, store.dialect, items.length), items.map((i) => i.usage.id)));
    const done = new Set(written.rows.map((r) => r.id));
    const fresh = new Set<Settlement>();
    for (const item of items) {
      if (!done.has(item.usage.id)) {
        fresh.add(item);
        done.add(item.usage.id); // the same request twice in one batch is written once
      }
    }
    const reserved = [...fresh].filter((i) => i.reservation);
    const local = store.local;
    // Reservation rows first, key rows after (see credit.ts): nobody holding a key row waits for these.
    const held = new Map<string, number>();
    if (local) {
      for (const { reservation } of reserved) held.set(reservation!.id, local.amountHeld(reservation!.id));
    } else if (reserved.length) {
      const ids = reserved.map((i) => i.reservation!.id);
      for (const r of await tx.deleteFrom('reservations').where('id', 'in', ids).returning(['id', 'amount_nano']).execute()) held.set(r.id, r.amount_nano);
    }
    const keyIds = [...new Set(reserved.map((i) => i.reservation!.keyId))].sort();
    const balances = clamp ? await lockKeys(tx, store, keyIds) : undefined;

    const charges = new Map<string, number>();
    const totals = new Map<string, { charged: number; released: number }>(keyIds.map((id) => [id, { charged: 0, released: 0 }]));
    const ledger: Array<Insertable<LedgerTable>> = [];
    for (const { reservation, usage } of reserved) {
      const keyId = reservation!.keyId;
      const release = held.get(reservation!.id) ?? 0;
      let charge = costOf(usage);
      if (balances) {
        const key = balances.get(keyId);
        const free = key ? key.balance - (key.reserved - release) : 0;
        charge = Math.max(0, Math.min(charge, free));
        if (key) {
          key.balance -= charge;
          key.reserved -= release;
        }
      }
      const total = totals.get(keyId)!;
      total.charged += charge;
      total.released += release;
      charges.set(usage.id, charge);
      if (charge > 0) ledger.push({ key_id: keyId, kind: 'charge', amount_nano: -charge, request_id: usage.id, note: usage.model, created_at: now });
    }

    if (ledger.length) await insertRows(tx, store.dialect, 'ledger', ledger, (row, column) => row[column as keyof typeof row]);
    if (fresh.size) {
      await insertRows(tx, store.dialect, 'usage', [...fresh], ({ usage }, column) =>
        column === 'cost_nano' ? (charges.get(usage.id) ?? 0) : column === 'created_at' ? (usage.created_at ?? now) : usage[column as keyof UsageRecord],
      );
    }
    for (const [keyId, { charged, released }] of totals) {
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
      if (!balances) update = update.where(sql<boolean>`balance_nano - ${othersHold} >= ${charged}`);
      const result = await update.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0 && !balances) throw new ChargeDoesNotFit();
    }
    if (local) {
      // The last step before the commit (see local-credit.ts); undone if the commit fails. A record
      // already written was charged by a commit whose answer was lost (the writer thread died after it):
      // its reservation is released too, and its key's balance read again, as the thread itself does.
      const charged = new Map([...totals].map(([keyId, t]) => [keyId, t.charged]));
      const reservationIds = reserved.map((i) => i.reservation!.id);
      const staleKeys = new Set<string>();
      for (const { reservation } of items.filter((i) => !fresh.has(i))) {
        if (!reservation) continue;
        reservationIds.push(reservation.id);
        staleKeys.add(reservation.keyId);
      }
      undoLocal = local.settle({ charged, reservationIds });
      local.forget(staleKeys);
    }

    return items.map((item) => {
      if (!fresh.has(item)) return { chargedNano: 0, uncoveredNano: 0, duplicate: true };
      const charged = charges.get(item.usage.id) ?? 0;
      return { chargedNano: charged, uncoveredNano: costOf(item.usage) - charged, duplicate: false };
    });
  }).catch((err) => {
    undoLocal?.();
    throw err;
  });
}

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

/** Caches the text the query builder writes for this key (bounded: row counts are few). */
function cachedText(key: string, build: () => string): string {
  let text = statementText.get(key);
  if (!text) {
    text = build();
    if (statementText.size < 1_000) statementText.set(key, text);
  }
  return text;
}

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

async function lockKeys(tx: Transaction<Database>, store: Store, keyIds: string[]) {
  const balances = new Map<string, { balance: number; reserved: number }>();
  if (!keyIds.length) return balances;
  const query = tx.selectFrom('api_keys').select(['id', 'balance_nano', 'reserved_nano']).where('id', 'in', keyIds).orderBy('id');
  for (const k of await (store.dialect === 'postgres' ? query.forUpdate() : query).execute()) {
    balances.set(k.id, { balance: k.balance_nano, reserved: store.local ? store.local.reservedOf(k.id) : k.reserved_nano });
  }
  return balances;
}
