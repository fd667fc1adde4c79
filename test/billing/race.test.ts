// Many concurrent requests on one key can never spend more than its credit: 200 requests race for
// credit that covers exactly 50, on SQLite and on PostgreSQL + Redis.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { backendKinds, openBackend, type Backend } from './support/backends.js';
import { money, postChat, reservedPromptTokens, settled, storeOf } from './support/billing-helpers.js';
import { openaiEither, usage } from './support/replies.js';

const MESSAGES = [{ role: 'user' as const, content: 'Race for the last cent.' }];
const IN = 2_000; // gpt-4.1, nano-USD per token
const OUT = 8_000;
const MAX_TOKENS = 100;
const REQUESTS = 200;
const AFFORDABLE = 50;

/** Fires every request at once (half of them streaming) while sampling the balance. */
async function race(h: Harness, apiKey: string, keyId: string): Promise<{ statuses: number[]; lowestBalance: number }> {
  let lowestBalance = Number.POSITIVE_INFINITY;
  let racing = true;
  const sampler = (async () => {
    while (racing) {
      lowestBalance = Math.min(lowestBalance, (await money(storeOf(h), keyId)).balance);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const statuses = await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) =>
      postChat(h, apiKey, { model: 'gpt-4.1', messages: MESSAGES, max_tokens: MAX_TOKENS, stream: i % 2 === 0 }).then((r) => r.status),
    ),
  );
  racing = false;
  await sampler;
  return { statuses, lowestBalance };
}

for (const { kind, skip } of await backendKinds()) {
  describe(`concurrent requests on ${kind}`, { skip }, () => {
    let backend: Backend;
    let h: Harness;
    before(async () => {
      backend = await openBackend(kind);
      h = await startHarness({ env: backend.env });
    });
    after(async () => {
      await h?.close();
      await backend?.close();
    });

    it('lets exactly the 50 requests the credit covers through, and never goes below zero', async () => {
      // Every request reserves exactly what it will cost: its prompt estimate and all of max_tokens.
      const prompt = reservedPromptTokens(MESSAGES);
      const cost = prompt * IN + MAX_TOKENS * OUT;
      const credit = AFFORDABLE * cost;
      const created = await h.admin('POST', '/admin/keys', { name: 'racer', credit_usd: credit / 1e9 });
      const { id, key } = created.body;
      h.sim.reset();
      h.sim.enqueue(...Array.from({ length: REQUESTS }, () => openaiEither(usage(prompt, MAX_TOKENS), { delayMs: 2 })));

      const { statuses, lowestBalance } = await race(h, key, id);
      const ok = statuses.filter((s) => s === 200).length;
      assert.equal(ok, AFFORDABLE);
      assert.equal(statuses.filter((s) => s === 402).length, REQUESTS - AFFORDABLE);
      assert.equal(h.sim.requests.length, AFFORDABLE, 'refused requests never reached the upstream');
      assert.ok(lowestBalance >= 0);

      const records = await waitForUsage(h, id, REQUESTS);
      await settled(h);
      assert.equal(records.length, REQUESTS, 'one usage record per request');
      const billed = records.reduce((sum, r) => sum + r.cost_nano, 0);
      const m = await money(storeOf(h), id);
      assert.deepEqual(m, { balance: 0, reserved: 0, spent: credit });
      assert.equal(billed, credit);
      assert.deepEqual((await verifyLedger(storeOf(h))).mismatches, []);
    });

    it('never spends more than the credit when upstreams use less than reserved', async () => {
      // Reservations are 100 output tokens but the upstream uses 10: released credit lets later requests
      // through, so any number may succeed, but the charges must add up and stay within the credit.
      const prompt = reservedPromptTokens(MESSAGES);
      const actual = prompt * IN + 10 * OUT;
      const credit = AFFORDABLE * actual;
      const created = await h.admin('POST', '/admin/keys', { name: 'racer-2', credit_usd: credit / 1e9 });
      const { id, key } = created.body;
      h.sim.reset();
      h.sim.enqueue(...Array.from({ length: REQUESTS }, () => openaiEither(usage(prompt, 10), { delayMs: 2 })));

      const { statuses, lowestBalance } = await race(h, key, id);
      const ok = statuses.filter((s) => s === 200).length;
      assert.ok(ok <= AFFORDABLE && ok > 0, `${ok} succeeded`);
      assert.equal(statuses.filter((s) => s === 402).length, REQUESTS - ok);
      assert.ok(lowestBalance >= 0);
      const records = await waitForUsage(h, id, REQUESTS);
      await settled(h);
      const billed = records.reduce((sum, r) => sum + r.cost_nano, 0);
      const m = await money(storeOf(h), id);
      assert.equal(billed, ok * actual);
      assert.deepEqual(m, { balance: credit - billed, reserved: 0, spent: billed });
      assert.deepEqual((await verifyLedger(storeOf(h))).mismatches, []);
    });
  });
}
