// Three gateway processes on one PostgreSQL and one Redis, in front of one upstream: the credit race
// spread across them, a rate limit they share, and a reservation left by an instance killed mid-stream.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator } from '../simulators/server.js';
import { openStore, type Store } from '../../src/store/database.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { backendKinds, openBackend, type Backend } from './support/backends.js';
import { money, reservedPromptTokens } from './support/billing-helpers.js';
import { startInstance, type Instance } from './support/instances.js';
import { openaiEither, openaiStream, usage } from './support/replies.js';

const ADMIN_KEY = 'multi-instance-admin-key';
const MESSAGES = [{ role: 'user' as const, content: 'Three gateways, one wallet.' }];
const IN = 2_000; // gpt-4.1, nano-USD per token
const OUT = 8_000;
const RESERVATION_TTL_MS = 3_000;

const skip = (await backendKinds()).find((b) => b.kind === 'postgres+redis')!.skip;

describe('three instances on one PostgreSQL and Redis', { skip }, () => {
  let backend: Backend;
  let sim: Simulator;
  let instances: Instance[] = [];
  let store: Store;

  const post = (i: number, path: string, token: string, body: unknown) =>
    fetch(`${instances[i % instances.length].url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
    const res = await post(1, '/admin/keys', ADMIN_KEY, { name: 'shared', ...body });
    assert.equal(res.status, 201);
    return res.json();
  }

  async function usageCount(keyId: string, count: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { n } = (await store.db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('n')).where('key_id', '=', keyId).executeTakeFirstOrThrow());
      if (Number(n) >= count || Date.now() > deadline) return Number(n);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  before(async () => {
    backend = await openBackend('postgres+redis');
    sim = await new Simulator().start();
    const env = {
      ...backend.env,
      ...sim.env(),
      OMNIGATE_ADMIN_KEY: ADMIN_KEY,
      OMNIGATE_LOG_LEVEL: 'warn',
      OMNIGATE_TOTAL_TIMEOUT_MS: '2000',
      OMNIGATE_RESERVATION_TTL_MS: String(RESERVATION_TTL_MS),
      OMNIGATE_MAX_RETRIES: '0',
    };
    // All three start at once, as a deployment rolls out: migrations run once, under the advisory lock.
    instances = await Promise.all([startInstance(env), startInstance(env), startInstance(env)]);
    store = await openStore(backend.env.DATABASE_URL);
  });

  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await store?.close();
    await sim?.close();
    await backend?.close();
  });

  it('lets exactly the 50 requests the credit covers through, spread over three instances', async () => {
    const prompt = reservedPromptTokens(MESSAGES);
    const cost = prompt * IN + 100 * OUT;
    const credit = 50 * cost;
    const { id, key } = await createKey({ credit_usd: credit / 1e9 });
    sim.reset();
    sim.enqueue(...Array.from({ length: 200 }, () => openaiEither(usage(prompt, 100), { delayMs: 2 })));
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(i, '/v1/chat/completions', key, { model: 'gpt-4.1', messages: MESSAGES, max_tokens: 100, stream: i % 2 === 1 }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    assert.equal(statuses.filter((s) => s === 402).length, 150);
    assert.equal(sim.requests.length, 50);
    assert.equal(await usageCount(id, 200), 200, 'one usage record per request');
    const billed = await store.db.selectFrom('usage').select((eb) => eb.fn.sum<number>('cost_nano').as('sum')).where('key_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(Number(billed.sum), credit);
    assert.deepEqual(await money(store, id), { balance: 0, reserved: 0, spent: credit });
    assert.deepEqual((await verifyLedger(store)).mismatches, []);
  });

  it('answers a request sent to another instance right after an answer that held the whole balance', async () => {
    // Without max_tokens on a small balance each request reserves all of it, and the instance that answered
    // releases it a few milliseconds after the answer; the next request, on the next instance, must not be
    // refused for it.
    const { id, key } = await createKey({ credit_usd: 0.01 });
    sim.reset();
    sim.enqueue(...Array.from({ length: 6 }, () => openaiEither(usage(20, 10))));
    for (let i = 0; i < 6; i++) {
      const res = await post(i, '/v1/chat/completions', key, { model: 'gpt-4.1', messages: MESSAGES });
      const text = await res.text();
      assert.equal(res.status, 200, `request ${i + 1} (instance ${i % 3}): ${text.slice(0, 200)}`);
    }
    assert.equal(await usageCount(id, 6), 6);
  });

  it('shares one RPM limit between the instances', async () => {
    const { key } = await createKey({ credit_usd: 1, rpm_limit: 10 });
    sim.reset();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await post(i, '/v1/chat/completions', key, { model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: 5 });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.equal(statuses.filter((s) => s === 200).length, 10);
    assert.equal(statuses.filter((s) => s === 429).length, 20);
    assert.equal(sim.requests.length, 10);
  });

  it('frees the reservation of an instance killed mid-stream, once it expires', async () => {
    const { id, key } = await createKey({ credit_usd: 1 });
    sim.reset();
    sim.enqueue(openaiStream(['never ', 'ending ', 'story'], usage(10, 10), { hangAfter: 2 }));
    const victim = instances[2];
    const res = await fetch(`${victim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', messages: MESSAGES, max_tokens: 1_000, stream: true }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const held = await money(store, id);
    assert.ok(held.reserved > 0, 'the running request holds a reservation');
    victim.process.kill('SIGKILL');
    await reader.read().catch(() => undefined);
    instances = instances.slice(0, 2);
    // The survivors sweep every TTL/4; the reservation goes once the TTL has passed.
    const deadline = Date.now() + RESERVATION_TTL_MS + 5_000;
    let m = held;
    while (m.reserved > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      m = await money(store, id);
    }
    assert.deepEqual(m, { balance: 1e9, reserved: 0, spent: 0 });
    assert.deepEqual((await verifyLedger(store)).mismatches, []);
  });
});
