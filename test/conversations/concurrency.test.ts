// Two turns on one conversation at once: the second is refused with 409 while the first runs, so no
// turn is lost and no answer is built on a history that misses one. Also across two gateway instances
// sharing PostgreSQL (skipped when no PostgreSQL is reachable).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startHarness, type Harness } from '../helpers/harness.js';
import { openaiChatReply } from '../simulators/openai.js';
import type { Simulator } from '../simulators/server.js';
import { ask, call, textOf } from './helpers.js';

const PG_URL = process.env.OMNIGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Fires `rounds` pairs of simultaneous turns (one per gateway) and checks the stored conversation after. */
async function raceTurns(gateways: Harness[], sim: Simulator, rounds: number): Promise<{ ok: number; busy: number }> {
  const [first] = gateways;
  const conv = await ask(first, { model: 'gpt-4o-mini', question: 'r0', stateful: true });
  assert.equal(conv.status, 200);
  let ok = 0;
  let busy = 0;
  for (let r = 1; r <= rounds; r++) {
    const results = await Promise.all(
      gateways.map((g, i) => ask(g, { model: 'gpt-4o-mini', question: `r${r}-${i}`, id: conv.body.id, stateful: true }, { apiKey: first.apiKey })),
    );
    for (const res of results) {
      if (res.status === 200) ok++;
      else {
        assert.equal(res.status, 409, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'conversation_busy');
        busy++;
      }
    }
  }
  const read = await call(first, 'GET', `/aichat/conversations/${conv.body.id}`);
  const turns = read.body.turns;
  assert.equal(turns.length, ok + 1, 'every answered turn is stored');
  assert.deepEqual(turns.map((t: any) => t.seq), turns.map((_: unknown, i: number) => i + 1), 'no gap, no duplicate');
  // Each stored turn was answered from exactly the turns stored before it.
  for (const [i, turn] of turns.entries()) {
    const upstream = sim.requests.find((q) => textOf(q.body?.messages?.at(-1)?.content) === turn.question);
    assert.ok(upstream, `no upstream request for ${turn.question}`);
    const history = upstream.body.messages.slice(0, -1).filter((m: any) => m.role === 'user').map((m: any) => m.content);
    assert.deepEqual(history, turns.slice(0, i).map((t: any) => t.question), `turn ${turn.seq} saw another history`);
  }
  return { ok, busy };
}

describe('concurrent turns', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('a turn sent while another is still streaming gets 409, and goes through once it finished', async () => {
    const conv = await ask(h, { model: 'gpt-4o', question: 'first', stateful: true });
    h.sim.enqueue((req) => ({ ...(openaiChatReply(req) as any), delayMs: 40 }));
    const streaming = ask(h, { model: 'gpt-4o', question: 'a slow long answer please', id: conv.body.id, stateful: true }, { accept: 'application/x-ndjson' });
    await new Promise((r) => setTimeout(r, 60));
    const before = h.sim.requests.length;
    const second = await ask(h, { model: 'gpt-4o', question: 'too soon', id: conv.body.id, stateful: true });
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'conversation_busy');
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal(h.sim.requests.length, before, 'the refused turn never reached the upstream');
    // A question that stores nothing does not wait.
    assert.equal((await ask(h, { model: 'gpt-4o', question: 'aside', id: conv.body.id })).status, 200);
    assert.equal((await streaming).status, 200);
    const retry = await ask(h, { model: 'gpt-4o', question: 'now', id: conv.body.id, stateful: true });
    assert.equal(retry.status, 200);
    const read = await call(h, 'GET', `/aichat/conversations/${conv.body.id}`);
    assert.deepEqual(read.body.turns.map((t: any) => t.question), ['first', 'a slow long answer please', 'now']);
  });

  test('simultaneous turns on one instance never interleave or lose a turn', async () => {
    const { ok, busy } = await raceTurns([h, h, h], h.sim, 8);
    assert.ok(ok >= 8 && busy > 0, `ok ${ok}, busy ${busy}`);
  });
});

describe('concurrent turns across instances sharing PostgreSQL', () => {
  let admin: pg.Client | undefined;
  const schema = `conv_test_${randomBytes(6).toString('hex')}`;
  let gateways: Harness[] = [];

  before(async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
    } catch {
      return; // no PostgreSQL here: the tests below skip
    }
    admin = client;
    await admin.query(`create schema ${schema}`);
    const env = { DATABASE_URL: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    const first = await startHarness({ env });
    gateways = [first, await startHarness({ env, sim: first.sim })];
  });
  after(async () => {
    for (const g of gateways.reverse()) await g.close();
    if (admin) {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  });

  test('simultaneous turns on two instances: one wins each round, none is lost', async (t) => {
    if (!admin) return t.skip('PostgreSQL is not reachable');
    const { ok, busy } = await raceTurns(gateways, gateways[0].sim, 10);
    assert.ok(ok >= 10, `ok ${ok}, busy ${busy}`);
  });
});
