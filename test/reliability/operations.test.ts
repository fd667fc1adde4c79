// GET /readyz and GET /metrics as an operator uses them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';
import { buildApp } from '../../src/server/app.js';
import type { Reply } from '../simulators/server.js';
import { sample, send, sleep, usageOf } from './support.js';

describe('operations endpoints', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { REDIS_URL: 'redis://127.0.0.1:6379', OMNIGATE_REDIS_PREFIX: `omnigate-test-ops-${process.pid}-${Date.now()}:` } });
  });
  after(() => h.close());

  test('/readyz reports the database and Redis reachable', async () => {
    const res = await fetch(`${h.url}/readyz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ready', checks: { database: 'ok', redis: 'ok' } });
  });

  test('/readyz answers 503 naming what is unreachable', async () => {
    const app = buildApp(h.gateway.gw, { health: { checks: { redis: async () => Promise.reject(new Error('connect ECONNREFUSED')) } } });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    const body = res.json();
    assert.equal(body.status, 'not ready');
    assert.equal(body.checks.database, 'ok');
    assert.match(body.checks.redis, /unreachable/);
    await app.close();
  });

  test('/metrics counts requests, errors, latency, time to first token, tokens, cost, retries and open streams', async () => {
    const key = await h.createKey();
    h.sim.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom' } } });
    assert.equal((await send(h.url, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] })).status, 200);
    assert.equal((await send(h.url, key.key, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] })).status, 200);
    h.sim.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } });
    assert.equal((await send(h.url, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] })).status, 400);
    await usageOf(h, key.id);

    const res = await fetch(`${h.url}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = { model: 'gpt-4o-mini', provider: 'openai' };
    assert.equal(sample(text, 'omnigate_requests_total', { ...m, status: 'ok' }), 2);
    assert.equal(sample(text, 'omnigate_requests_total', { ...m, status: 'error' }), 1);
    assert.equal(sample(text, 'omnigate_errors_total', { ...m }), 1);
    assert.equal(sample(text, 'omnigate_request_duration_seconds_count', { ...m, stream: 'false' }), 2);
    assert.equal(sample(text, 'omnigate_request_duration_seconds_count', { ...m, stream: 'true' }), 1);
    assert.equal(sample(text, 'omnigate_time_to_first_token_seconds_count', m), 1);
    assert.ok(sample(text, 'omnigate_tokens_total', { ...m, kind: 'prompt' })! > 0);
    assert.ok(sample(text, 'omnigate_tokens_total', { ...m, kind: 'completion' })! > 0);
    assert.ok(sample(text, 'omnigate_cost_nano_usd_total', m)! > 0);
    assert.equal(sample(text, 'omnigate_upstream_retries_total', { provider: 'openai', reason: '500' }), 1);
    assert.equal(sample(text, 'omnigate_open_streams'), 0);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0, 'process metrics too');
  });

  test('the open-streams gauge counts a stream while it is relayed', async () => {
    const chunk = (delta: object, finish: string | null = null) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
    const slow: Reply = { kind: 'sse', frames: [{ data: chunk({ role: 'assistant', content: 'a' }) }, ...Array.from({ length: 6 }, () => ({ data: chunk({ content: 'b' }) })), { data: chunk({}, 'stop') }], delayMs: 60 };
    h.sim.enqueue(slow);
    const pending = send(h.url, h.apiKey, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'slowly' }] });
    await sleep(150);
    assert.equal(sample(await (await fetch(`${h.url}/metrics`)).text(), 'omnigate_open_streams'), 1);
    assert.equal((await pending).status, 200);
    assert.equal(sample(await (await fetch(`${h.url}/metrics`)).text(), 'omnigate_open_streams'), 0);
  });

  test('model names a client makes up do not become metric labels', async () => {
    for (const model of ['made-up-model-1', 'made-up-model-2']) {
      assert.equal((await send(h.url, h.apiKey, { model, messages: [{ role: 'user', content: 'hi' }] })).status, 404);
    }
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.ok(!text.includes('made-up-model'), 'unbounded label values would grow the registry forever');
  });
});
