// Reserve, then settle (DESIGN.md section 4). The reservation is taken inside one database transaction
// that locks the key's row, so concurrent requests — on one instance or many sharing PostgreSQL —
// can never together reserve more than the balance. Settlement charges the real cost (never more than
// was reserved), writes the ledger row and the usage record in the same transaction, and releases the rest.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import type { UsageTable } from '../store/schema.js';

export interface Reservation {
  id: string;
  keyId: string;
  amountNano: number;
}

export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; availableNano: number };

/**
 * Reserves `amountFor(available)` nano-USD where `available` is the balance minus open reservations.
 * The callback sizes the reservation from what is available (to cap the output a key can afford) and
 * returns 0 or less to refuse.
 */
export async function reserveCredit(
  store: Store,
  keyId: string,
  amountFor: (availableNano: number) => number,
  ttlMs: number,
): Promise<ReserveOutcome> {
  return store.db.transaction().execute(async (tx) => {
    const query = tx.selectFrom('api_keys').select(['balance_nano', 'reserved_nano']).where('id', '=', keyId);
    const row = await (store.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    if (!row) return { ok: false, availableNano: 0 } as const;
    const available = row.balance_nano - row.reserved_nano;
    const amount = Math.ceil(amountFor(available));
    if (amount <= 0 || amount > available) return { ok: false, availableNano: available } as const;
    const now = Date.now();
    const id = randomUUID();
    await tx.updateTable('api_keys').set({ reserved_nano: sql`reserved_nano + ${amount}` }).where('id', '=', keyId).execute();
    await tx.insertInto('reservations').values({ id, key_id: keyId, amount_nano: amount, expires_at: now + ttlMs, created_at: now }).execute();
    return { ok: true, reservation: { id, keyId, amountNano: amount } } as const;
  });
}

export type UsageRecord = Omit<UsageTable, 'created_at'> & { created_at?: number };

/**
 * Charges min(cost, reserved) and records usage, atomically. A reservation that already expired
 * (released by the sweeper) is charged against what the balance still has free.
 */
export async function settleCredit(store: Store, reservation: Reservation | undefined, usage: UsageRecord): Promise<number> {
  return store.db.transaction().execute(async (tx) => {
    const now = Date.now();
    let charge = Math.max(0, usage.cost_nano);
    if (reservation) {
      const held = await tx.deleteFrom('reservations').where('id', '=', reservation.id).returning('amount_nano').executeTakeFirst();
      const key = await tx.selectFrom('api_keys').select(['balance_nano', 'reserved_nano']).where('id', '=', reservation.keyId).executeTakeFirst();
      const release = held ? held.amount_nano : 0;
      const free = key ? key.balance_nano - (key.reserved_nano - release) : 0;
      charge = Math.min(charge, held ? held.amount_nano : Math.max(0, free));
      await tx
        .updateTable('api_keys')
        .set({
          reserved_nano: sql`reserved_nano - ${release}`,
          balance_nano: sql`balance_nano - ${charge}`,
          spent_nano: sql`spent_nano + ${charge}`,
        })
        .where('id', '=', reservation.keyId)
        .execute();
      if (charge > 0) {
        await tx
          .insertInto('ledger')
          .values({ key_id: reservation.keyId, kind: 'charge', amount_nano: -charge, request_id: usage.id, note: usage.model, created_at: now })
          .execute();
      }
    }
    await tx.insertInto('usage').values({ ...usage, cost_nano: charge, created_at: usage.created_at ?? now }).execute();
    return charge;
  });
}

/** Releases reservations left by a crashed instance. Safe to run on every instance at once. */
export async function releaseExpiredReservations(store: Store, now = Date.now()): Promise<number> {
  const expired = await store.db.selectFrom('reservations').select(['id']).where('expires_at', '<', now).limit(500).execute();
  let released = 0;
  for (const { id } of expired) {
    await store.db.transaction().execute(async (tx) => {
      const held = await tx.deleteFrom('reservations').where('id', '=', id).returning(['key_id', 'amount_nano']).executeTakeFirst();
      if (!held) return; // another instance got there first
      await tx.updateTable('api_keys').set({ reserved_nano: sql`reserved_nano - ${held.amount_nano}` }).where('id', '=', held.key_id).execute();
      released++;
    });
  }
  return released;
}

export async function addCredit(store: Store, keyId: string, amountNano: number, note: string | null = null): Promise<number | undefined> {
  return store.db.transaction().execute(async (tx) => {
    const query = tx.selectFrom('api_keys').select(['balance_nano', 'reserved_nano']).where('id', '=', keyId);
    const row = await (store.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    if (!row) return undefined;
    if (row.balance_nano + amountNano < 0) throw new RangeError('the balance cannot go below zero');
    await tx.updateTable('api_keys').set({ balance_nano: sql`balance_nano + ${amountNano}` }).where('id', '=', keyId).execute();
    await tx.insertInto('ledger').values({ key_id: keyId, kind: 'credit', amount_nano: amountNano, request_id: null, note, created_at: Date.now() }).execute();
    return row.balance_nano + amountNano;
  });
}
