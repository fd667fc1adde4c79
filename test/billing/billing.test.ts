// The billing suite, run on the default SQLite file and on PostgreSQL + Redis: what a key is charged,
// when it is refused (402, 403, 429) and what the admin API and /v1/me show about it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { backendKinds, openBackend, type Backend } from './support/backends.js';
import { money, postChat, reservedPromptTokens, settled, storeOf } from './support/billing-helpers.js';
import { openaiJson, openaiStream, usage } from './support/replies.js';

const HELLO = [{ role: 'user' as const, content: 'Hello there, how much does this cost?' }];
// gpt-4.1: $2 / $0.50 cached / $8 per 1M tokens = 2,000 / 500 / 8,000 nano-USD per token.
const IN = 2_000;
const CACHED = 500;
const OUT = 8_000;

for (const { kind, skip } of await backendKinds()) {
  describe(`billing on ${kind}`, { skip }, () => {
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

    it('charges the exact cost from the upstream usage, cached input at the cached price and reasoning as output', async () => {
      const key = await h.createKey({ credit_usd: 1 });
      h.sim.enqueue(openaiJson(usage(1_000, 500, { prompt_tokens_details: { cached_tokens: 400 }, completion_tokens_details: { reasoning_tokens: 200 } })));
      const completion = await key.client.chat.completions.create({ model: 'gpt-4.1', messages: HELLO, max_tokens: 1_000 });
      assert.equal(completion.usage?.prompt_tokens, 1_000);
      const [record] = await waitForUsage(h, key.id, 1);
      const cost = 600 * IN + 400 * CACHED + 500 * OUT; // 5,400,000 nano-USD = $0.0054
      assert.equal(record.cost_nano, cost);
      assert.equal(record.cost_usd, 0.0054);
      assert.deepEqual(
        [record.prompt_tokens, record.completion_tokens, record.cached_tokens, record.reasoning_tokens, record.status, record.estimated],
        [1_000, 500, 400, 200, 'ok', false],
      );
      await settled(h);
      assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e9 - cost, reserved: 0, spent: cost });
      const me = await fetch(`${h.url}/v1/me`, { headers: { authorization: `Bearer ${key.key}` } }).then((r) => r.json());
      assert.equal(me.balance_usd, 0.9946);
      assert.equal(me.spent_usd, 0.0054);
    });

    it('charges a stream the same, from the usage chunk the gateway asked the upstream for', async () => {
      const key = await h.createKey({ credit_usd: 1 });
      h.sim.enqueue(openaiStream(['Streamed ', 'answer.'], usage(120, 7)));
      const stream = await key.client.chat.completions.create({ model: 'gpt-4.1', messages: HELLO, max_tokens: 50, stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      assert.equal(text, 'Streamed answer.');
      assert.equal(h.sim.last().body.stream_options.include_usage, true);
      const [record] = await waitForUsage(h, key.id, 1);
      assert.equal(record.cost_nano, 120 * IN + 7 * OUT);
      assert.equal(record.estimated, false);
    });

    it('refuses with 402 insufficient_quota, without calling the upstream, when the balance cannot cover max_tokens', async () => {
      const key = await h.createKey({ credit_usd: 0.01 });
      const before = h.sim.requests.length;
      // 10,000 output tokens × 8,000 nano-USD = $0.08 > $0.01
      const res = await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO, max_tokens: 10_000 });
      assert.equal(res.status, 402);
      assert.equal(res.body.error.code, 'insufficient_quota');
      assert.equal(res.body.error.type, 'insufficient_quota');
      assert.match(res.body.error.message, /\$0\.01 available/);
      assert.equal(h.sim.requests.length, before, 'the upstream was not called');
      const [record] = await waitForUsage(h, key.id, 1);
      assert.deepEqual([record.status, record.http_status, record.error_code, record.cost_nano], ['error', 402, 'insufficient_quota', 0]);
      await settled(h);
      assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e7, reserved: 0, spent: 0 });
    });

    it('without max_tokens, caps the output upstream to what the balance covers', async () => {
      const key = await h.createKey({ credit_usd: 0.01 });
      const prompt = reservedPromptTokens(HELLO);
      const affordable = Math.floor((1e7 - prompt * IN) / OUT);
      h.sim.enqueue(openaiJson(usage(20, affordable)));
      const res = await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO });
      assert.equal(res.status, 200);
      assert.equal(h.sim.last().body.max_completion_tokens, affordable, 'the cap reached the upstream');
      const [record] = await waitForUsage(h, key.id, 1);
      assert.equal(record.cost_nano, 20 * IN + affordable * OUT);
      await settled(h);
      const m = await money(storeOf(h), key.id);
      assert.ok(m.balance >= 0 && m.balance < 1e7 / 100, `balance ${m.balance} left after the capped request`);
      assert.equal(m.reserved, 0);
    });

    it('answers requests sent one after another even when each held the whole balance while it ran', async () => {
      // Without max_tokens on a small balance, a request reserves all of it; the next one, sent as soon as
      // the answer arrives, must find that reservation released (on PostgreSQL its settlement is written
      // just after the answer), not be refused with 402.
      const key = await h.createKey({ credit_usd: 0.01 });
      h.sim.enqueue(...Array.from({ length: 5 }, () => openaiJson(usage(20, 10))));
      for (let i = 0; i < 5; i++) {
        const res = await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO });
        assert.equal(res.status, 200, `request ${i + 1}: ${JSON.stringify(res.body).slice(0, 200)}`);
      }
      await settled(h);
      assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e7 - 5 * (20 * IN + 10 * OUT), reserved: 0, spent: 5 * (20 * IN + 10 * OUT) });
    });

    it('records an upstream error once, charges nothing and releases the reservation', async () => {
      const key = await h.createKey({ credit_usd: 1 });
      h.sim.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad request upstream', type: 'invalid_request_error', code: null, param: null } } });
      const res = await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO, max_tokens: 100 });
      assert.equal(res.status, 400);
      const records = await waitForUsage(h, key.id, 1);
      await settled(h);
      assert.equal((await waitForUsage(h, key.id, 1)).length, 1);
      assert.deepEqual([records[0].status, records[0].cost_nano], ['error', 0]);
      assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e9, reserved: 0, spent: 0 });
    });

    it('holds the worst case while a request runs and releases what was not used', async () => {
      const key = await h.createKey({ credit_usd: 1 });
      h.sim.enqueue(openaiStream(['slow ', 'words ', 'here.'], usage(30, 3), { delayMs: 150 }));
      const stream = await key.client.chat.completions.create({ model: 'gpt-4.1', messages: HELLO, max_tokens: 1_000, stream: true });
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      const during = await h.admin('GET', `/admin/keys/${key.id}`);
      const expected = reservedPromptTokens(HELLO) * IN + 1_000 * OUT;
      assert.equal(Math.round(during.body.reserved_usd * 1e9), expected);
      while (!(await iterator.next()).done);
      await waitForUsage(h, key.id, 1);
      await settled(h);
      assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e9 - (30 * IN + 3 * OUT), reserved: 0, spent: 30 * IN + 3 * OUT });
    });

    it('answers 403 for a model outside the key allow-list, without calling the upstream', async () => {
      const key = await h.createKey({ credit_usd: 1, models: ['gpt-4o-mini'] });
      const before = h.sim.requests.length;
      const res = await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'model_not_allowed');
      assert.equal(h.sim.requests.length, before);
      const ok = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: HELLO, max_tokens: 10 });
      assert.equal(ok.status, 200);
      const unknown = await h.admin('POST', '/admin/keys', { name: 'typo', credit_usd: 1, models: ['gpt-4o-mni'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.message, /gpt-4o-mni/);
    });

    it('answers 429 rate_limit_exceeded with Retry-After above the RPM limit', async () => {
      const key = await h.createKey({ credit_usd: 1, rpm_limit: 3 });
      const before = h.sim.requests.length;
      for (let i = 0; i < 3; i++) assert.equal((await postChat(h, key.key, { model: 'gpt-4o-mini', messages: HELLO, max_tokens: 5 })).status, 200);
      const res = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: HELLO, max_tokens: 5 });
      assert.equal(res.status, 429);
      assert.equal(res.body.error.code, 'rate_limit_exceeded');
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(h.sim.requests.length, before + 3);
    });

    it('counts the tokens a request really used toward the TPM limit', async () => {
      const key = await h.createKey({ credit_usd: 1, tpm_limit: 1_000 });
      h.sim.enqueue(openaiJson(usage(300, 300)), openaiJson(usage(200, 100)));
      assert.equal((await postChat(h, key.key, { model: 'gpt-4o-mini', messages: HELLO, max_tokens: 500 })).status, 200);
      // 600 used: a prompt of ~15 tokens still fits.
      assert.equal((await postChat(h, key.key, { model: 'gpt-4o-mini', messages: HELLO, max_tokens: 500 })).status, 200);
      // 900 used: the next one (another ~15 prompt tokens) would still fit, one with a 200-token prompt does not.
      const long = [{ role: 'user' as const, content: 'word '.repeat(200) }];
      const res = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: long, max_tokens: 5 });
      assert.equal(res.status, 429);
      assert.match(res.body.error.message, /1000 tokens per minute/);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const tooLarge = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(2_000) }] });
      assert.equal(tooLarge.status, 429);
      assert.match(tooLarge.body.error.message, /larger than this key's limit/);
    });

    it('lets an operator create, list, limit, disable and credit keys', async () => {
      const created = await h.admin('POST', '/admin/keys', { name: 'ops', credit_usd: 2.5, rpm_limit: 10, tpm_limit: 5000, models: ['gpt-4.1'] });
      assert.equal(created.status, 201);
      assert.match(created.body.key, /^sk-/);
      assert.deepEqual([created.body.balance_usd, created.body.rpm_limit, created.body.tpm_limit, created.body.models], [2.5, 10, 5000, ['gpt-4.1']]);
      const id = created.body.id;
      const list = await h.admin('GET', '/admin/keys');
      const listed = list.body.data.find((k: any) => k.id === id);
      assert.equal(listed.name, 'ops');
      assert.equal(listed.key, undefined, 'the secret is never shown again');
      const patched = await h.admin('PATCH', `/admin/keys/${id}`, { rpm_limit: null, models: null, disabled: true });
      assert.deepEqual([patched.body.rpm_limit, patched.body.models, patched.body.disabled, patched.body.tpm_limit], [null, null, true, 5000]);
      const refused = await postChat(h, created.body.key, { model: 'gpt-4.1', messages: HELLO });
      assert.equal(refused.status, 401);
      const topUp = await h.admin('POST', `/admin/keys/${id}/credit`, { amount_usd: 1.25 });
      assert.equal(topUp.body.balance_usd, 3.75);
      const debit = await h.admin('POST', `/admin/keys/${id}/credit`, { amount_usd: -3.75 });
      assert.equal(debit.body.balance_usd, 0);
      const overdraw = await h.admin('POST', `/admin/keys/${id}/credit`, { amount_usd: -0.000000001 });
      assert.equal(overdraw.status, 400);
      assert.equal((await h.admin('POST', `/admin/keys/${id}/credit`, { amount_usd: 0 })).status, 400);
      assert.equal((await h.admin('POST', '/admin/keys/key_nope/credit', { amount_usd: 1 })).status, 404);
      assert.equal((await h.admin('GET', '/admin/keys/key_nope')).status, 404);
      assert.equal((await h.admin('POST', '/admin/keys', { name: 'neg', credit_usd: -1 })).status, 400);
    });

    it('lists usage records by key and time, as JSON and as CSV', async () => {
      const key = await h.createKey({ credit_usd: 1 });
      const t0 = Date.now();
      h.sim.enqueue(openaiJson(usage(10, 2)), openaiJson(usage(11, 3)));
      await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO, max_tokens: 10 });
      await postChat(h, key.key, { model: 'gpt-4.1', messages: HELLO, max_tokens: 10 });
      const records = await waitForUsage(h, key.id, 2);
      assert.deepEqual(records.map((r) => r.prompt_tokens), [10, 11]);
      const later = await h.admin('GET', `/admin/usage?key_id=${key.id}&since=${new Date(t0 - 1).toISOString()}&until=${Date.now() + 1000}`);
      assert.equal(later.body.data.length, 2);
      const none = await h.admin('GET', `/admin/usage?key_id=${key.id}&since=${Date.now() + 60_000}`);
      assert.equal(none.body.data.length, 0);
      const res = await fetch(`${h.url}/admin/usage?key_id=${key.id}`, { headers: { authorization: `Bearer ${h.adminKey}`, accept: 'text/csv' } });
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = (await res.text()).trim().split('\n');
      assert.equal(lines.length, 3);
      const header = lines[0].split(',');
      const row = Object.fromEntries(lines[1].split(',').map((v, i) => [header[i], v]));
      assert.deepEqual([row.key_id, row.model, row.prompt_tokens, row.cost_usd, row.status], [key.id, 'gpt-4.1', '10', String((10 * IN + 2 * OUT) / 1e9), 'ok']);
    });

    it('reports the database (and Redis when configured) in /readyz', async () => {
      const res = await fetch(`${h.url}/readyz`).then((r) => r.json());
      assert.equal(res.status, 'ready');
      assert.equal(res.checks.database, 'ok');
      if (kind === 'postgres+redis') assert.equal(res.checks.redis, 'ok');
    });

    it('keeps every balance equal to the sum of its ledger rows', async () => {
      await settled(h);
      const report = await verifyLedger(storeOf(h));
      assert.deepEqual(report.mismatches, []);
      assert.ok(report.keys >= 10);
    });
  });
}
