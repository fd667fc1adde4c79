// The arithmetic of a settlement batch (the rules in settlement.ts's header), in one place for both
// writers: settlement.ts (PostgreSQL, the CLI, and the gateway when its writer thread has failed) and
// the SQLite writer thread (settlement-thread.ts). Two copies of it drifted once: a record found written
// before released its reservation on the thread and not on the gateway's connection.
//
// These functions run inside the thread as source text (Function.prototype.toString, see
// settlement-worker.ts), so they use nothing from outside their own bodies.

import type { SettlementResult } from './settlement.js';

export interface ChargeItem {
  /** The request id (the usage record's primary key). */
  id: string;
  /** Its full cost, nano-USD. */
  cost: number;
  reservation?: { id: string; keyId: string };
}

/** A key's balance and the reservations open on it, read with its row locked (the clamped pass). */
export interface KeyFunds {
  balance: number;
  reserved: number;
}

export interface BatchCharges {
  results: SettlementResult[];
  /** The charge of each item written now that has a reservation, by its index. */
  charges: Map<number, number>;
  /** By key: what its requests written now are charged, and what their reservations held. */
  totals: Map<string, { charged: number; released: number }>;
  /** Reservations to release: those of the requests written now, and of those written before. */
  released: string[];
  /**
   * Keys of requests written before (by an attempt whose answer was lost): their charge is in the
   * balance but not in the gateway's mirror of it, which must read the balance again.
   */
  staleKeys: string[];
}

/** Indexes of the items to write now: not written before, and only the first of a request sent twice. */
export function freshItems(ids: readonly string[], written: Iterable<string>): number[] {
  const done = new Set(written);
  const fresh: number[] = [];
  ids.forEach((id, i) => {
    if (done.has(id)) return;
    done.add(id);
    fresh.push(i);
  });
  return fresh;
}

/**
 * Each fresh item is charged its cost (rounded up to a whole nano); with `funds` (the clamped pass), at
 * most what its key then holds beyond its other reservations, the rest reported as uncovered. `heldOf`
 * is what a reservation held until now (0 once expired).
 */
export function chargeBatch(items: readonly ChargeItem[], fresh: readonly number[], heldOf: (reservationId: string) => number, funds?: Map<string, KeyFunds>): BatchCharges {
  const costOf = (item: ChargeItem) => Math.max(0, Math.ceil(item.cost));
  const isFresh = new Set(fresh);
  const results: SettlementResult[] = [];
  const charges = new Map<number, number>();
  const totals = new Map<string, { charged: number; released: number }>();
  const released: string[] = [];
  const staleKeys = new Set<string>();
  items.forEach((item, i) => {
    const r = item.reservation;
    if (!isFresh.has(i)) {
      results.push({ chargedNano: 0, uncoveredNano: 0, duplicate: true });
      if (r) {
        released.push(r.id);
        staleKeys.add(r.keyId);
      }
      return;
    }
    let charge = r ? costOf(item) : 0;
    if (r) {
      const held = heldOf(r.id);
      if (funds) {
        const key = funds.get(r.keyId);
        charge = key ? Math.max(0, Math.min(charge, key.balance - (key.reserved - held))) : 0;
        if (key) {
          key.balance -= charge;
          key.reserved -= held;
        }
      }
      const total = totals.get(r.keyId) ?? { charged: 0, released: 0 };
      totals.set(r.keyId, total);
      total.charged += charge;
      total.released += held;
      charges.set(i, charge);
      released.push(r.id);
    }
    results.push({ chargedNano: charge, uncoveredNano: costOf(item) - charge, duplicate: false });
  });
  return { results, charges, totals, released, staleKeys: [...staleKeys] };
}
