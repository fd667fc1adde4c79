import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chargeBatch, freshItems, type ChargeItem, type KeyFunds } from './settlement-charges.js';

const item = (id: string, cost: number, keyId = 'k1'): ChargeItem => ({ id, cost, reservation: { id: `r-${id}`, keyId } });
const held = (amounts: Record<string, number>) => (reservationId: string) => amounts[reservationId] ?? 0;

describe('freshItems', () => {
  it('skips what was written before and a request sent twice in one batch', () => {
    assert.deepEqual(freshItems(['a', 'b', 'a', 'c'], ['b']), [0, 3]);
  });
});

describe('chargeBatch', () => {
  it('the optimistic pass charges each request its cost, rounded up to a whole nano, and releases what it held', () => {
    const items = [item('a', 999.2), item('b', 500, 'k2'), { id: 'free', cost: 40 }];
    const batch = chargeBatch(items, [0, 1, 2], held({ 'r-a': 1_000, 'r-b': 2_000 }));
    assert.deepEqual(batch.results, [
      { chargedNano: 1_000, uncoveredNano: 0, duplicate: false },
      { chargedNano: 500, uncoveredNano: 0, duplicate: false },
      { chargedNano: 0, uncoveredNano: 40, duplicate: false }, // no reservation: a refusal, nothing to charge
    ]);
    assert.deepEqual([...batch.totals], [['k1', { charged: 1_000, released: 1_000 }], ['k2', { charged: 500, released: 2_000 }]]);
    assert.deepEqual(batch.released, ['r-a', 'r-b']);
    assert.deepEqual(batch.staleKeys, []);
  });

  it('the clamped pass charges at most what the key holds beyond its other reservations, request by request', () => {
    // Balance 10,000; open reservations 9,000, of which a and b hold 3,000 and 1,000: others hold 5,000.
    const funds = new Map<string, KeyFunds>([['k1', { balance: 10_000, reserved: 9_000 }]]);
    const batch = chargeBatch([item('a', 4_000), item('b', 4_000)], [0, 1], held({ 'r-a': 3_000, 'r-b': 1_000 }), funds);
    assert.deepEqual(batch.results, [
      { chargedNano: 4_000, uncoveredNano: 0, duplicate: false }, // free: 10,000 − (9,000 − 3,000)
      { chargedNano: 1_000, uncoveredNano: 3_000, duplicate: false }, // then 6,000 − (6,000 − 1,000)
    ]);
    assert.deepEqual(funds.get('k1'), { balance: 5_000, reserved: 5_000 });
  });

  it('an expired reservation (held 0) is charged only from free credit; a key not found is charged nothing', () => {
    const funds = new Map<string, KeyFunds>([['k1', { balance: 1_000, reserved: 800 }]]);
    const batch = chargeBatch([item('late', 500), item('gone', 70, 'deleted')], [0, 1], held({}), funds);
    assert.deepEqual(batch.results.map((r) => [r.chargedNano, r.uncoveredNano]), [[200, 300], [0, 70]]);
  });

  it('a request written before is not charged again, but its reservation is released and its key read again', () => {
    const batch = chargeBatch([item('old', 700), item('new', 300)], [1], held({ 'r-old': 700, 'r-new': 300 }));
    assert.deepEqual(batch.results[0], { chargedNano: 0, uncoveredNano: 0, duplicate: true });
    assert.deepEqual([...batch.totals], [['k1', { charged: 300, released: 300 }]]);
    assert.deepEqual(batch.released.sort(), ['r-new', 'r-old']);
    assert.deepEqual(batch.staleKeys, ['k1']);
  });
});
