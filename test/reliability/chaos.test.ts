// Everything at once, with the money checked afterwards: concurrent requests on one key whose credit
// covers only some of them, across three dialects, streaming and not, while the upstream fails in the ways
// of the fault matrix (faults.test.ts takes them one at a time) and some clients hang up mid-answer.
// Any single outcome is allowed. What must hold is what users and operators rely on: every answer is a
// 200 or the error envelope, one usage record per request, no reservation left held, the balance equal
// to the credit minus the records' charges and never below zero, the ledger consistent, no stream left
// open on either side, and the gateway healthy afterwards.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';
import type { ReplyFactory } from '../simulators/server.js';
import { defaultReply } from '../simulators/defaults.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { backendKinds, openBackend, type Backend } from '../billing/support/backends.js';
import { money, settled, storeOf } from '../billing/support/billing-helpers.js';
import { ask, call, ndjsonLines, type Answer } from '../conversations/helpers.js';
import { assertEnvelope, assertHealthy, sample, send, sleep, type ClientView } from './support.js';

const REQUESTS = 120;
/** Stateful turns among them, on a few conversations: some meet each other (409) or a fault mid-answer. */
const TURNS = 30;
const CONVERSATIONS = 3;
const TIMEOUT_MS = 300;
const MODELS = ['gpt-4o-mini', 'claude-sonnet-4-6', 'gemini-1.5-flash'];
/** The mix of faults and hang-ups comes from this seed; CHAOS_SEED=n replays another one. */
const SEED = Number(process.env.CHAOS_SEED ?? 20261207);

/** mulberry32: a small seeded generator, so that a failing mix can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One upstream answer: a fault of the matrix, a slow answer, or a normal one, in the request's dialect. */
const upstreamReply = (pick: number): ReplyFactory => (req) => {
  const normal = defaultReply(req);
  const sse = normal.kind === 'sse' ? normal : undefined;
  const half = sse ? Math.ceil(sse.frames.length / 2) : 0;
  switch (Math.floor(pick * 10)) {
    case 0: return { kind: 'json', status: 500, body: { error: { message: 'The server had an error.', type: 'server_error' } } };
    case 1: return { kind: 'json', status: 429, body: { error: { message: 'Rate limit reached', type: 'requests' } }, headers: { 'retry-after': '0' } };
    case 2: return { kind: 'reset' };
    case 3: return { kind: 'hang' };
    case 4: return sse ? { ...sse, delayMs: 3, resetAfter: half } : normal;
    case 5: return sse ? { ...sse, delayMs: 3, hangAfter: half } : normal;
    case 6: return sse ? { kind: 'sse', frames: [], raw: 'data: {"choices": [\n\n' } : { kind: 'text', status: 200, body: '{"choices": [', headers: { 'content-type': 'application/json' } };
    case 7: return sse ? { ...sse, delayMs: 5 } : normal; // slow enough for a client to hang up mid-answer
    default: return normal;
  }
};

/** What a client saw: its answer, or that it hung up first. */
type Outcome = { view: ClientView } | { hungUp: true };

/** A 200 is a whole answer, a stream that ended in [DONE], or a stream whose last event is an error. */
function assertAnswer(view: ClientView, context: string): void {
  if (view.status !== 200) {
    assert.ok([402, 429, 502, 504].includes(view.status), `status ${view.status} ${context}: ${view.text.slice(0, 200)}`);
    assertEnvelope(view.body, context);
    return;
  }
  if (!view.events.length) return assert.ok(view.body.choices?.[0]?.message, `a whole answer ${context}`);
  const last = view.events.at(-1);
  if (view.done) assert.ok(!view.events.some((e) => e.error), `no error event before [DONE] ${context}`);
  else assertEnvelope(last, `${context}, the stream's last event`);
}

/** A turn's answer: the whole answer, NDJSON ending in done or in an error, or the error envelope. */
function assertTurn({ status, body }: Answer, ndjson: boolean, context: string): void {
  if (status !== 200) {
    assert.ok([402, 409, 429, 502, 504].includes(status), `status ${status} ${context}: ${JSON.stringify(body).slice(0, 200)}`);
    return assertEnvelope(body, context);
  }
  if (!ndjson) return assert.equal(typeof body.answer, 'string', `an answer ${context}`);
  // readBody parses a body of one line (only the done line, or only an error) as that line.
  const last = typeof body === 'string' ? ndjsonLines(body).at(-1) : body;
  if (!last.done) assertEnvelope(last, `${context}, the last line`);
}

for (const { kind, skip } of await backendKinds()) {
  describe(`chaos on ${kind} (seed ${SEED})`, { skip }, () => {
    let backend: Backend;
    let h: Harness;
    before(async () => {
      backend = await openBackend(kind);
      h = await startHarness({
        env: {
          ...backend.env,
          OMNIGATE_FIRST_BYTE_TIMEOUT_MS: String(TIMEOUT_MS),
          OMNIGATE_IDLE_TIMEOUT_MS: String(TIMEOUT_MS),
          OMNIGATE_MAX_RETRIES: '1',
          // The breaker would turn later faults into fast 503s; its own tests cover it.
          OMNIGATE_BREAKER_FAILURES: '1000',
        },
      });
    });
    after(async () => {
      await h?.close();
      await backend?.close();
    });

    it('keeps every answer well-formed and every nano-dollar accounted for', { timeout: 60_000 }, async () => {
      // Every request the gateway received, until its response closes: none may be left hanging.
      const unanswered = new Map<object, string>();
      h.gateway.app.server.on('request', (req, res) => {
        unanswered.set(res, `${req.method} ${req.url}`);
        res.once('close', () => unanswered.delete(res));
      });
      const random = seeded(SEED);
      // Enough for three or four Claude Sonnet reservations at once: some requests must be refused with 402.
      const { id: keyId, key } = await h.createKey({ name: 'chaos', credit_usd: 0.003 });
      const credit = (await money(storeOf(h), keyId)).balance;
      h.sim.reset();
      const conversations: string[] = [];
      for (let c = 0; c < CONVERSATIONS; c++) {
        const first = await ask(h, { model: MODELS[c], question: 'My name is Ada.', stateful: true }, { apiKey: key });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        conversations.push(first.body.id);
      }
      h.sim.enqueue(...Array.from({ length: 2 * REQUESTS }, () => upstreamReply(random())));

      let lowestBalance = Number.POSITIVE_INFINITY;
      let running = true;
      const sampler = (async () => {
        for (; running; await sleep(2)) lowestBalance = Math.min(lowestBalance, (await money(storeOf(h), keyId)).balance);
      })();
      const outcomes: Outcome[] = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, i): Promise<Outcome> => {
          const stream = random() < 0.5;
          const hangUpAfterMs = random() < 0.2 ? 1 + Math.floor(random() * 30) : undefined;
          const signal = hangUpAfterMs === undefined ? undefined : AbortSignal.timeout(hangUpAfterMs);
          const body = { model: MODELS[i % MODELS.length], messages: [{ role: 'user', content: `Question ${i}: tell me about foxes.` }], max_tokens: 50, stream };
          try {
            return { view: await send(h.url, key, body, { signal }) };
          } catch (err) {
            assert.ok(signal?.aborted, `request ${i} failed without hanging up: ${err}`);
            return { hungUp: true };
          }
        }),
      );
      const turns = await Promise.all(
        Array.from({ length: TURNS }, async (_, i) => {
          const ndjson = random() < 0.5;
          const signal = random() < 0.2 ? AbortSignal.timeout(1 + Math.floor(random() * 30)) : undefined;
          const body = { model: MODELS[i % MODELS.length], id: conversations[i % CONVERSATIONS], question: `Turn ${i}: and foxes?`, stateful: true, max_tokens: 50 };
          try {
            assertTurn(await ask(h, body, { apiKey: key, accept: ndjson ? 'application/x-ndjson' : undefined, signal }), ndjson, `(turn ${i})`);
            return 'answered';
          } catch (err) {
            if (!signal?.aborted) throw err;
            return 'hung up';
          }
        }),
      );
      running = false;
      await sampler;
      assert.ok(turns.includes('answered'));

      const views = outcomes.flatMap((o, i) => ('view' in o ? [{ view: o.view, i }] : []));
      for (const { view, i } of views) assertAnswer(view, `(request ${i})`);
      assert.ok(views.some(({ view }) => view.status === 402), 'the credit ran short for some requests');
      assert.ok(views.some(({ view }) => view.status === 200), 'some requests were answered');

      // A settlement that never comes must fail the test, not hang it.
      await Promise.race([settled(h), sleep(10_000).then(() => assert.fail('settlements still pending 10 s after the last answer'))]);
      const records = (await h.admin('GET', `/admin/usage?key_id=${keyId}&limit=1000`)).body.data as any[];
      const byId = new Map(records.map((r) => [r.id, r]));
      assert.equal(byId.size, records.length, 'no request has two usage records');
      for (const { view, i } of views) assert.ok(byId.has(view.headers.get('x-request-id')), `request ${i} has its usage record`);
      // Chat requests that hung up before reaching the gateway, and turns refused as busy (409), have none.
      const sent = REQUESTS + CONVERSATIONS + TURNS;
      assert.ok(records.length <= sent && records.length >= views.length, `${records.length} records for ${sent} requests`);

      const charged = records.reduce((sum, r) => sum + r.cost_nano, 0);
      assert.deepEqual(await money(storeOf(h), keyId), { balance: credit - charged, reserved: 0, spent: charged });
      assert.ok(lowestBalance >= 0, `the balance went to ${lowestBalance}`);
      assert.deepEqual((await verifyLedger(storeOf(h))).mismatches, []);

      // Upstream connections of hung-up clients and cut streams are all closed, and no stream is counted open.
      for (let waited = 0; h.sim.openResponses > 0 && waited < 2_000; waited += 20) await sleep(20);
      assert.equal(h.sim.openResponses, 0, 'no upstream response left open');
      for (let waited = 0; unanswered.size > 0 && waited < 2_000; waited += 20) await sleep(20);
      assert.deepEqual([...unanswered.values()], [], 'no request left without its response');
      assert.equal(sample(await (await fetch(`${h.url}/metrics`)).text(), 'omnigate_open_streams'), 0);
      h.sim.reset();
      await assertHealthy(h);
      // No conversation is left claimed by a turn that failed or was abandoned: each takes a new turn (with
      // credit enough again), and its stored turns are numbered without a gap.
      assert.equal((await h.admin('POST', `/admin/keys/${keyId}/credit`, { amount_usd: 1 })).status, 200);
      for (const id of conversations) {
        const next = await ask(h, { model: 'gpt-4o-mini', id, question: 'Still there?', stateful: true }, { apiKey: key });
        assert.equal(next.status, 200, `a new turn on ${id}: ${JSON.stringify(next.body).slice(0, 200)}`);
        const seqs = ((await call(h, 'GET', `/aichat/conversations/${id}`, key)).body as { turns: Array<{ seq: number }> }).turns.map((t) => t.seq);
        assert.deepEqual(seqs, seqs.map((_, n) => n + 1), `turns of ${id}`);
        assert.equal(seqs.at(-1)! >= 2, true);
      }
    });
  });
}
