// Reserve, then settle (DESIGN.md section 4). The database is the only authority on money, with or
// without Redis, and every change to a key's money is one transaction that keeps these invariants:
//
//   balance_nano  = sum of the key's ledger rows            (append-only ledger)
//   balance_nano >= 0                                        (CHECK constraint: the database refuses otherwise)
//   reserved_nano = sum of the key's open reservations
//
// A reservation is one conditional UPDATE (`… where balance - reserved >= amount`), which both SQLite
// and PostgreSQL evaluate atomically against the latest committed row, so any number of requests on any
// number of instances can never together reserve more than the balance. A settlement charges at most
// what the balance holds beyond the other open reservations, so it can never take the balance below
// zero nor eat into credit another request has reserved.
//
// Settlement lives in settlement.ts. On PostgreSQL a transaction that locks both takes reservation rows
// before key rows (reserving only inserts a new reservation row, which nobody can be waiting on), so
// reservations, settlements and the expiry sweep of several instances cannot deadlock one another.
// On SQLite every transaction begins by taking the database's write lock (BEGIN IMMEDIATE,
// store/sqlite-lock-wait.ts): a second process (the CLI) can then never invalidate a snapshot already read.
//
// On SQLite the open reservations live in the gateway process that owns the file (local-credit.ts):
// there `reserved_nano` stays 0 in the database, the reservations table stays empty, and the invariant
// reserved = Σ open reservations holds in memory instead.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import type { LocalCredit } from './local-credit.js';
import type { RateTicket } from './rate-limit.js';

export interface Reservation {
  id: string;
  keyId: string;
  amountNano: number;
  /** The rate-limit admission of the request, so its token count can be corrected at settlement. */
  rateTicket?: RateTicket;
}

export type ReserveOutcome =
  | { ok: true; reservation: Reservation }
  /** heldNano: what open reservations of the key held when it was refused (credit that may come back). */
  | { ok: false; availableNano: number; heldNano: number };

/** Optimistic attempts before giving up under heavy contention on one key (each re-reads the balance). */
const RESERVE_ATTEMPTS = 8;

/**
 * Reserves `amountFor(available)` nano-USD, where `available` is the balance minus open reservations.
 * The callback sizes the reservation from what is available (to cap the output a key can afford) and
 * returns 0 or less to refuse. It is first called with Infinity (the uncapped amount): when the key can
 * afford that, the reservation costs one statement and no read.
 */
export async function reserveCredit(
  store: Store,
  keyId: string,
  amountFor: (availableNano: number) => number,
  ttlMs: number,
): Promise<ReserveOutcome> {
  if (store.local) return reserveInProcess(store, store.local, keyId, amountFor, ttlMs);
  const full = Math.ceil(amountFor(Number.POSITIVE_INFINITY));
  if (full > 0 && Number.isFinite(full)) {
    const reservation = await tryReserve(store, keyId, full, ttlMs);
    if (reservation) return { ok: true, reservation };
  }
  let available = 0;
  let held = 0;
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    const row = await store.db.selectFrom('api_keys').select(['balance_nano', 'reserved_nano']).where('id', '=', keyId).executeTakeFirst();
    if (!row) return { ok: false, availableNano: 0, heldNano: 0 };
    available = row.balance_nano - row.reserved_nano;
    held = row.reserved_nano;
    const amount = Math.ceil(amountFor(available));
    if (!(amount > 0) || amount > available) return { ok: false, availableNano: available, heldNano: held };
    // Another request may have reserved since the read; then the condition fails and we size again.
    const reservation = await tryReserve(store, keyId, amount, ttlMs);
    if (reservation) return { ok: true, reservation };
  }
  return { ok: false, availableNano: available, heldNano: held };
}

async function reserveInProcess(
  store: Store,
  local: LocalCredit,
  keyId: string,
  amountFor: (availableNano: number) => number,
  ttlMs: number,
): Promise<ReserveOutcome> {
  let money = local.known(keyId);
  // Unknown at first, and again after another connection wrote (then the read may have to be redone).
  for (let attempt = 0; !money && attempt < RESERVE_ATTEMPTS; attempt++) {
    const writer = store.writer;
    const found = writer?.running
      ? // In order with the writer thread's settlements, which it then includes exactly (settlement-worker.ts).
        // A thread that fails meanwhile refuses the read; the next attempt reads on this connection.
        await writer.readBalance(keyId).then((balance) => balance !== undefined, (err) => (writer.running ? Promise.reject(err) : undefined))
      : // Read inside a transaction: settlements move the mirror inside theirs, so none can land in between.
        await store.db.transaction().execute(async (tx) => {
          const row = await tx.selectFrom('api_keys').select('balance_nano').where('id', '=', keyId).executeTakeFirst();
          if (row) local.setBalance(keyId, row.balance_nano);
          return !!row;
        });
    if (found === undefined) continue;
    if (!found) return { ok: false, availableNano: 0, heldNano: 0 };
    money = local.known(keyId);
  }
  if (!money) return { ok: false, availableNano: 0, heldNano: 0 };
  // From here to the reservation nothing yields, so no other request can reserve in between.
  const available = money.balance - money.reserved;
  const amount = Math.ceil(amountFor(available));
  if (!(amount > 0) || amount > available) return { ok: false, availableNano: available, heldNano: money.reserved };
  return { ok: true, reservation: local.reserve(keyId, amount, ttlMs) };
}

async function tryReserve(store: Store, keyId: string, amount: number, ttlMs: number): Promise<Reservation | undefined> {
  const id = randomUUID();
  const now = Date.now();
  if (store.dialect === 'postgres') {
    // One statement, so the key's row lock is held for microseconds and not across round trips. It also
    // commits without waiting for the WAL flush (synchronous_commit off for this transaction only), as
    // otherwise every reservation on a busy key would queue behind the previous one's disk write. That
    // is safe: a reservation lost in a database crash vanishes whole (row and reserved_nano together),
    // and its request then settles against credit nobody holds, so no balance can go below zero.
    const result = await sql<{ id: string }>`
      with async_commit as (select set_config('synchronous_commit', 'off', true)),
      k as (
        update api_keys set reserved_nano = reserved_nano + ${amount}
        where id = ${keyId} and balance_nano - reserved_nano >= ${amount}
        returning id
      )
      insert into reservations (id, key_id, amount_nano, expires_at, created_at)
      select ${id}::text, k.id, ${amount}::bigint, ${now + ttlMs}::bigint, ${now}::bigint from k, async_commit
      returning id`.execute(store.db);
    return result.rows.length ? { id, keyId, amountNano: amount } : undefined;
  }
  return store.db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('api_keys')
      .set({ reserved_nano: sql`reserved_nano + ${amount}` })
      .where('id', '=', keyId)
      .where(sql<boolean>`balance_nano - reserved_nano >= ${amount}`)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return undefined;
    await tx.insertInto('reservations').values({ id, key_id: keyId, amount_nano: amount, expires_at: now + ttlMs, created_at: now }).execute();
    return { id, keyId, amountNano: amount };
  });
}

/**
 * Releases reservations whose request never settled (its instance crashed or was killed). Safe to run
 * on every instance at once: each reservation is deleted by exactly one of them.
 */
export async function releaseExpiredReservations(store: Store, now = Date.now()): Promise<number> {
  // On SQLite reservations are held in this process; rows there can only be left by an earlier version.
  const releasedHere = store.local?.releaseExpired(now) ?? 0;
  const expired = await store.db.selectFrom('reservations').select(['id', 'key_id']).where('expires_at', '<', now).limit(500).execute();
  let released = 0;
  for (const { id, key_id } of expired) {
    await store.db.transaction().execute(async (tx) => {
      const held = await tx.deleteFrom('reservations').where('id', '=', id).returning(['amount_nano']).executeTakeFirst();
      if (!held) return; // settled meanwhile, or another instance got there first
      await tx.updateTable('api_keys').set({ reserved_nano: sql`reserved_nano - ${held.amount_nano}` }).where('id', '=', key_id).execute();
      released++;
    });
  }
  return releasedHere + released;
}

/**
 * SQLite: returns a check, run every second, that makes the balances mirrored in this process be read
 * again after another connection (the CLI, in its own process) wrote to the file. SQLite's data_version
 * changes on every commit of another connection and never on this one's.
 */
export function foreignWriteCheck(store: Store): () => Promise<void> {
  let seen: number | undefined;
  return async () => {
    // With the writer thread, its connection is the one whose own commits do not count; this process's
    // other writes (admin requests) then count too, and only make the mirror read a balance again.
    const version = store.writer?.running
      ? await store.writer.dataVersion()
      : (await sql<{ data_version: number }>`pragma data_version`.execute(store.db)).rows[0]?.data_version;
    if (seen !== undefined && version !== seen) store.local?.forget();
    seen = version;
  };
}

export class NegativeBalanceError extends RangeError {
  constructor() {
    super('the balance cannot go below zero');
  }
}

/**
 * Adds credit (or, with a negative amount, removes it as long as the balance stays at or above zero).
 * Returns the new balance, or undefined when the key does not exist.
 */
export async function addCredit(store: Store, keyId: string, amountNano: number, note: string | null = null): Promise<number | undefined> {
  if (!Number.isSafeInteger(amountNano)) throw new RangeError('the amount must be a whole number of nano-USD');
  return store.db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('api_keys')
      .set({ balance_nano: sql`balance_nano + ${amountNano}` })
      .where('id', '=', keyId)
      .where(sql<boolean>`balance_nano + ${amountNano} >= 0`)
      .returning('balance_nano')
      .executeTakeFirst();
    if (!updated) {
      const exists = await tx.selectFrom('api_keys').select('id').where('id', '=', keyId).executeTakeFirst();
      if (exists) throw new NegativeBalanceError();
      return undefined;
    }
    await tx.insertInto('ledger').values({ key_id: keyId, kind: 'credit', amount_nano: amountNano, request_id: null, note, created_at: Date.now() }).execute();
    // Inside the transaction, like a settlement (local-credit.ts); a failed commit makes it read again.
    // With the writer thread, this connection may already see a batch whose answer the mirror has not
    // applied yet: the balance is read again through the thread instead.
    if (store.writer?.running) store.local?.forget([keyId]);
    else store.local?.setBalance(keyId, updated.balance_nano);
    return updated.balance_nano;
  }).catch((err) => {
    store.local?.forget([keyId]);
    throw err;
  });
}
