// Open reservations kept in this process, for SQLite (DESIGN.md section 4). One gateway process owns
// an SQLite file (README, "Scaling out"), so its open reservations need no row and no write: reserving
// is a map entry and costs the request no database work, where a reservation row cost two write
// transactions (reserve, then release) and was a third of the gateway's CPU per request. The database
// stays the only record of money: settlement writes balances, charges and usage records exactly as on
// PostgreSQL, and the CHECK constraint keeps every balance at or above zero whatever happens here.
//
// Each key's balance is mirrored from the database. It is read inside a transaction and moved by this
// process's settlements inside theirs, just before the commit: Kysely runs SQLite on one connection,
// one transaction at a time, so no read of a balance can fall between a commit and its mirror update.
// In the gateway, settlements and these reads go to the writer thread instead, whose answers are
// applied in the order it gives them (settlement-worker.ts): the same guarantee.
// Writes from other connections (the CLI, in its own process) are noticed through SQLite's
// data_version (billing.ts polls it) and make the mirrors read the balance again.

import { randomUUID } from 'node:crypto';
import type { Reservation } from './credit.js';

interface KeyMoney {
  /** Undefined until read from the database, and again after another connection wrote. */
  balance: number | undefined;
  reserved: number;
}

interface Held {
  keyId: string;
  amount: number;
  expiresAt: number;
}

/** What one settlement transaction does to the mirror, applied just before its commit. */
export interface LocalSettlement {
  /** Charged nano-USD by key. */
  charged: Map<string, number>;
  /** The reservations the settlement releases. */
  reservationIds: string[];
}

export class LocalCredit {
  private readonly keys = new Map<string, KeyMoney>();
  private readonly held = new Map<string, Held>();

  /** The key's balance and open reservations, when its balance is known. */
  known(keyId: string): { balance: number; reserved: number } | undefined {
    const money = this.keys.get(keyId);
    return money?.balance === undefined ? undefined : { balance: money.balance, reserved: money.reserved };
  }

  /** Records the balance read from the database. Call inside the transaction that read it. */
  setBalance(keyId: string, balance: number): void {
    const money = this.keys.get(keyId);
    if (money) money.balance = balance;
    else this.keys.set(keyId, { balance, reserved: 0 });
  }

  /** The balances must be read again (another connection wrote, or a commit failed). */
  forget(keyIds: Iterable<string> = this.keys.keys()): void {
    for (const keyId of keyIds) {
      const money = this.keys.get(keyId);
      if (!money) continue;
      if (money.reserved === 0) this.keys.delete(keyId);
      else money.balance = undefined;
    }
  }

  /** Holds `amount` for a request. The caller checked it is available (see credit.ts). */
  reserve(keyId: string, amount: number, ttlMs: number): Reservation {
    const money = this.keys.get(keyId);
    if (!money) throw new Error(`no balance known for ${keyId}`);
    const id = randomUUID();
    money.reserved += amount;
    this.held.set(id, { keyId, amount, expiresAt: Date.now() + ttlMs });
    return { id, keyId, amountNano: amount };
  }

  /** What a reservation still holds: 0 once settled or expired. */
  amountHeld(reservationId: string): number {
    return this.held.get(reservationId)?.amount ?? 0;
  }

  /**
   * Sets a finished request's reservation to its cost, so that what it will be charged is held until
   * its settlement is written (settlements are written in batches, a few milliseconds later, and on the
   * gateway by another thread): lowered, the rest is available at once; raised (a cost above the
   * estimate), by no more than the key has free, so other requests cannot reserve what this one will
   * be charged. The settlement then never charges more than it releases unless the key ran out.
   */
  resize(reservationId: string, costNano: number): void {
    const held = this.held.get(reservationId);
    if (!held || held.amount === costNano) return;
    let amount = costNano;
    if (costNano > held.amount) {
      const money = this.keys.get(held.keyId);
      const free = money?.balance === undefined ? 0 : Math.max(0, money.balance - money.reserved);
      amount = held.amount + Math.min(costNano - held.amount, free);
    }
    this.changeReserved(held.keyId, amount - held.amount);
    held.amount = amount;
  }

  reservedOf(keyId: string): number {
    return this.keys.get(keyId)?.reserved ?? 0;
  }

  /**
   * Applies a settlement to the mirror: balances go down by the charges and the reservations are
   * released. Returns the undo, for a commit that then fails.
   */
  settle({ charged, reservationIds }: LocalSettlement): () => void {
    const released: Array<[string, Held]> = [];
    for (const id of reservationIds) {
      const held = this.held.get(id);
      if (!held) continue;
      this.held.delete(id);
      released.push([id, held]);
      this.changeReserved(held.keyId, -held.amount);
    }
    for (const [keyId, amount] of charged) {
      const money = this.keys.get(keyId);
      if (money?.balance !== undefined) money.balance -= amount;
    }
    return () => {
      for (const [id, held] of released) {
        this.held.set(id, held);
        this.changeReserved(held.keyId, held.amount);
      }
      this.forget(charged.keys());
    };
  }

  /** Frees reservations whose request never settled; returns how many. */
  releaseExpired(now = Date.now()): number {
    let released = 0;
    for (const [id, held] of this.held) {
      if (held.expiresAt >= now) continue;
      this.held.delete(id);
      this.changeReserved(held.keyId, -held.amount);
      released++;
    }
    return released;
  }

  private changeReserved(keyId: string, delta: number): void {
    const money = this.keys.get(keyId);
    if (money) money.reserved += delta;
    else if (delta > 0) this.keys.set(keyId, { balance: undefined, reserved: delta });
  }
}
