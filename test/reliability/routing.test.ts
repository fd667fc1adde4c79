// Deployments, fallbacks and the circuit breaker from a config file, end to end: two upstreams for one
// model (other keys, other base URLs), a fallback chain to another provider, and a deployment that
// keeps failing taken out of rotation and tried again after its cool-down.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness.js';
import { Simulator, type RecordedRequest, type Reply } from '../simulators/server.js';
import { defaultReply } from '../simulators/defaults.js';
import { assertEnvelope, send, sleep, usageOf } from './support.js';

const COOLDOWN_MS = 600;
const serverError: Reply = { kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } };
/** Every OpenAI-dialect request fails; other dialects on the same simulator answer normally. */
const alwaysFailing = (sim: Simulator) =>
  sim.enqueue(...Array.from({ length: 200 }, () => (req: RecordedRequest) => (req.dialect === 'openai' ? serverError : defaultReply(req))));
const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'which upstream are you?' }] });

describe('deployments, fallbacks and circuit breaker', () => {
  let h: Harness;
  let a: Simulator;
  let b: Simulator;
  before(async () => {
    a = await new Simulator().start();
    b = await new Simulator().start();
    const dir = mkdtempSync(join(tmpdir(), 'omnigate-routing-'));
    const config = join(dir, 'omnigate.json');
    writeFileSync(
      config,
      JSON.stringify({
        deployments: {
          'gpt-4o-mini': [
            { baseUrl: `${a.url}/v1`, apiKeyEnv: 'KEY_A', weight: 1 },
            { baseUrl: `${b.url}/v1`, apiKeyEnv: 'KEY_B', weight: 1 },
          ],
        },
        fallbacks: { 'gpt-4.1': ['claude-sonnet-4-6'] },
      }),
    );
    h = await startHarness({
      sim: a,
      env: {
        OMNIGATE_CONFIG: config,
        KEY_A: 'sim-key-a',
        KEY_B: 'sim-key-b',
        OMNIGATE_MAX_RETRIES: '1',
        OMNIGATE_BREAKER_FAILURES: '2',
        OMNIGATE_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      },
    });
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });
  beforeEach(() => {
    a.reset();
    b.reset();
  });

  test('requests spread over both deployments, each with its own key', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await send(h.url, h.apiKey, ask('gpt-4o-mini'))).status, 200);
    assert.ok(a.requests.length >= 3 && b.requests.length >= 3, `a ${a.requests.length}, b ${b.requests.length}`);
    assert.ok(a.requests.every((r) => r.headers.authorization === 'Bearer sim-key-a'));
    assert.ok(b.requests.every((r) => r.headers.authorization === 'Bearer sim-key-b'));
  });

  test('a failing deployment is taken out after 2 failures, skipped during its cool-down, then probed again', async () => {
    alwaysFailing(a);
    for (let i = 0; i < 20; i++) {
      const view = await send(h.url, h.apiKey, ask('gpt-4o-mini'));
      assert.equal(view.status, 200, 'every request is served by the healthy deployment');
    }
    assert.equal(a.requests.length, 2, 'the broken deployment saw two requests, then none');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(metrics, /omnigate_deployment_circuit_open\{deployment="gpt-4o-mini#0"\} 1/);
    await sleep(COOLDOWN_MS + 50);
    a.reset(); // healthy again
    for (let i = 0; i < 20; i++) assert.equal((await send(h.url, h.apiKey, ask('gpt-4o-mini'))).status, 200);
    assert.ok(a.requests.length >= 3, `back in rotation after a successful probe (${a.requests.length} requests)`);
    assert.match(await (await fetch(`${h.url}/metrics`)).text(), /omnigate_deployment_circuit_open\{deployment="gpt-4o-mini#0"\} 0/);
  });

  test('rejected credentials move to the next deployment at once, without retrying the same one', async () => {
    a.enqueue({ kind: 'json', status: 401, body: { error: { message: 'Incorrect API key provided: sim-key-a', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    for (let i = 0; i < 10 && a.requests.length === 0; i++) assert.equal((await send(h.url, h.apiKey, ask('gpt-4o-mini'))).status, 200);
    assert.equal(a.requests.length, 1, 'tried once');
  });

  test('a request the upstream refuses (400) is answered at once: not retried, no other deployment', async () => {
    const refusal: Reply = { kind: 'json', status: 400, body: { error: { message: "Invalid 'messages[0].content'", type: 'invalid_request_error', param: 'messages', code: null } } };
    a.enqueue(refusal);
    b.enqueue(refusal);
    const view = await send(h.url, h.apiKey, ask('gpt-4o-mini'));
    assert.equal(view.status, 400);
    assertEnvelope(view.body);
    assert.equal(a.requests.length + b.requests.length, 1);
  });

  test('when every deployment fails, the fallback chain serves the request under the asked model id', async () => {
    alwaysFailing(a);
    const key = await h.createKey();
    const view = await send(h.url, key.key, ask('gpt-4.1'));
    assert.equal(view.status, 200, view.text);
    assert.equal(view.body.model, 'gpt-4.1');
    assert.equal(a.requests.filter((r) => r.dialect === 'openai').length, 2, 'gpt-4.1 tried with its retry');
    assert.equal(a.requests.filter((r) => r.dialect === 'anthropic').length, 1, 'then claude-sonnet-4-6');
    const usage = await usageOf(h, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].provider, 'anthropic', 'billed as what served it');
    assert.equal(usage[0].status, 'ok');
  });

  test('when every deployment of the chain is cooling down, the client is told at once when to retry', async () => {
    alwaysFailing(a);
    alwaysFailing(b);
    await sleep(COOLDOWN_MS + 50);
    let view = await send(h.url, h.apiKey, ask('gpt-4o-mini'));
    while (view.body?.error?.code !== 'upstream_unavailable') {
      assert.equal(view.status, 502, 'failures before the circuits open are upstream errors');
      view = await send(h.url, h.apiKey, ask('gpt-4o-mini'));
    }
    const before = a.requests.length + b.requests.length;
    view = await send(h.url, h.apiKey, ask('gpt-4o-mini'));
    assert.equal(view.status, 503);
    assertEnvelope(view.body);
    assert.equal(view.body.error.code, 'upstream_unavailable');
    assert.equal(view.headers.get('retry-after'), '1');
    assert.ok(view.ms < 100, `failed fast (${Math.round(view.ms)} ms)`);
    assert.equal(a.requests.length + b.requests.length, before, 'no upstream was called');
    a.reset();
    b.reset();
    await sleep(COOLDOWN_MS * 2 + 50); // a failed probe may have doubled the cool-down
  });
});
