// Total timeout, a client that goes away, an upstream that cannot be reached, and keep-alive comments
// on a stream that waits for its first chunk.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startHarness, type Harness } from '../helpers/harness.js';
import type { Reply, SseFrame } from '../simulators/server.js';
import { assertEnvelope, assertHealthy, send, sleep, usageOf } from './support.js';

const chunk = (delta: object, finish: string | null = null) =>
  JSON.stringify({ id: 'chatcmpl-sim', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
/** A slow OpenAI stream: `words` content chunks, `delayMs` apart. */
function slowStream(words: number, delayMs: number): Reply {
  const frames: SseFrame[] = [{ data: chunk({ role: 'assistant', content: '' }) }];
  for (let i = 0; i < words; i++) frames.push({ data: chunk({ content: `word${i} ` }) });
  frames.push({ data: chunk({}, 'stop') }, { data: '[DONE]' });
  return { kind: 'sse', frames, delayMs };
}

async function waitFor(condition: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

describe('timeouts and disconnects', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { OMNIGATE_TOTAL_TIMEOUT_MS: '700', OMNIGATE_STREAM_KEEPALIVE_MS: '100', OMNIGATE_BREAKER_FAILURES: '1000' } });
  });
  after(() => h.close());

  test('a stream longer than the total timeout ends with an upstream_timeout event and is billed for what it streamed', async () => {
    const key = await h.createKey();
    h.sim.enqueue(slowStream(40, 50));
    const view = await send(h.url, key.key, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a long answer please' }] });
    assert.equal(view.status, 200);
    assert.ok(view.ms >= 650 && view.ms < 1_500, `ended at the total timeout (${Math.round(view.ms)} ms)`);
    const last = view.events.at(-1);
    assertEnvelope(last);
    assert.equal(last.error.code, 'upstream_timeout');
    assert.equal(view.done, false);
    const [usage, ...more] = await usageOf(h, key.id);
    assert.equal(more.length, 0);
    assert.equal(usage.status, 'timeout');
    assert.equal(usage.http_status, 504);
    assert.ok(usage.completion_tokens > 0 && usage.estimated);
    await waitFor(() => h.sim.openResponses === 0, 1_000);
    assert.ok(h.sim.abortedResponses >= 1, 'the upstream call was aborted');
  });

  test('a non-streaming request past the total timeout gets a 504 and a usage record', async () => {
    const key = await h.createKey();
    h.sim.enqueue({ kind: 'sse', frames: [{ data: '{}' }], hangAfter: 0 }); // headers, then nothing
    const view = await send(h.url, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(view.status, 504);
    assertEnvelope(view.body);
    assert.equal(view.body.error.code, 'upstream_timeout');
    const usage = await usageOf(h, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].status, 'timeout');
    await assertHealthy(h);
  });

  test('a streaming client that disconnects aborts the upstream call within a second, and is billed what it got', async () => {
    const key = await h.createKey();
    const abortedBefore = h.sim.abortedResponses;
    h.sim.enqueue(slowStream(100, 50));
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'talk for a while' }] }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let received = '';
    while (!received.includes('word2')) received += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const ms = await waitFor(() => h.sim.abortedResponses > abortedBefore, 1_000);
    assert.ok(ms < 1_000, `upstream aborted after ${ms} ms`);
    const usage = await usageOf(h, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].status, 'aborted');
    assert.ok(usage[0].completion_tokens > 0, 'the streamed words are billed');
    assert.ok(h.sim.requests.length >= 1);
  });

  test('a non-streaming client that disconnects aborts the upstream call within a second', async () => {
    const key = await h.createKey();
    const abortedBefore = h.sim.abortedResponses;
    h.sim.enqueue({ kind: 'sse', frames: [{ data: '{}' }], hangAfter: 0 });
    const controller = new AbortController();
    const pending = fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await waitFor(() => h.sim.openResponses > 0, 1_000);
    controller.abort();
    await pending;
    const ms = await waitFor(() => h.sim.abortedResponses > abortedBefore, 1_000);
    assert.ok(ms < 1_000, `upstream aborted after ${ms} ms`);
    const usage = await usageOf(h, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].status, 'aborted');
  });

  test('an upstream that refuses connections gets retries, then a 502', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const down = await startHarness({ sim: h.sim, env: { OPENAI_BASE_URL: `http://127.0.0.1:${closed}/v1`, OMNIGATE_MAX_RETRIES: '1' } });
    try {
      const view = await send(down.url, down.apiKey, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
      assert.equal(view.status, 502);
      assertEnvelope(view.body);
      assert.equal(view.body.error.code, 'upstream_error');
      assert.ok(!view.text.includes('ECONNREFUSED') && !view.text.includes('127.0.0.1'), 'no internals in the message');
      const metrics = await (await fetch(`${down.url}/metrics`)).text();
      assert.match(metrics, /omnigate_upstream_retries_total\{provider="openai",reason="connect"\} 2/);
      const usage = await usageOf(down, down.keyId);
      assert.equal(usage.length, 1);
    } finally {
      await down.close();
    }
  });

  test('a stream waiting on a slow upstream gets keep-alive comments, then its answer', async () => {
    const frames: SseFrame[] = [
      // Chunks without choices are dropped by the gateway: to the client this is a silent upstream.
      ...Array.from({ length: 4 }, () => ({ data: JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [] }) })),
      { data: chunk({ role: 'assistant', content: 'finally' }) },
      { data: chunk({}, 'stop') },
      { data: '[DONE]' },
    ];
    h.sim.enqueue({ kind: 'sse', frames, delayMs: 70 });
    const view = await send(h.url, h.apiKey, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'take your time' }] });
    assert.equal(view.status, 200);
    const firstData = view.text.indexOf('data: ');
    assert.ok(view.text.slice(0, firstData).includes(': keep-alive'), `comments before the first chunk: ${JSON.stringify(view.text.slice(0, 80))}`);
    assert.ok(!view.events.some((e) => e.error), view.text);
    assert.equal(view.events.map((e) => e.choices[0]?.delta?.content ?? '').join(''), 'finally');
    assert.ok(view.done);
  });
});
