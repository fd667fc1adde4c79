// Streams that end early are billed once, for what the upstream produced: a client that hangs up
// halfway, an upstream that reported its prompt usage before the cut, and a gateway shutting down.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { countTextTokens, estimatePromptTokens } from '../../src/billing/estimate-tokens.js';
import { verifyLedger } from '../../src/billing/ledger.js';
import { listUsage } from '../../src/store/usage.js';
import { openStore } from '../../src/store/database.js';
import type { SseFrame } from '../simulators/server.js';
import { backendKinds, openBackend } from './support/backends.js';
import { money, settled, storeOf } from './support/billing-helpers.js';
import { openaiStream } from './support/replies.js';

const MESSAGES = [{ role: 'user' as const, content: 'Tell me a long story.' }];
const WORDS = Array.from({ length: 30 }, (_, i) => `word${i} `);

/** Opens a stream, reads SSE events until `deltas` content deltas arrived, then hangs up. Returns the text read. */
async function readThenHangUp(h: Harness, apiKey: string, body: object, deltas: number): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let seen = 0;
  while (seen < deltas) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0 && seen < deltas) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const content = JSON.parse(data).choices?.[0]?.delta?.content;
      if (content) {
        text += content;
        seen++;
      }
    }
  }
  controller.abort();
  return text;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

for (const { kind, skip } of await backendKinds()) {
  describe(`streams cut short on ${kind}`, { skip }, () => {
    it('bills a client that hangs up halfway once, for the text the upstream produced, and closes the upstream', async () => {
      const backend = await openBackend(kind);
      const h = await startHarness({ env: backend.env });
      try {
        const key = await h.createKey({ credit_usd: 1 });
        // No usage chunk ever comes: the upstream is cut before its end.
        h.sim.enqueue(openaiStream(WORDS, undefined, { delayMs: 40 }));
        const read = await readThenHangUp(h, key.key, { model: 'gpt-4.1', messages: MESSAGES, max_tokens: 500 }, 10);
        assert.equal(read, WORDS.slice(0, 10).join(''));
        assert.ok(await until(() => h.sim.abortedResponses === 1 && h.sim.openResponses === 0, 1_000), 'the upstream connection was closed within 1 s');

        const [record, extra] = await waitForUsage(h, key.id, 1);
        await new Promise((r) => setTimeout(r, 100));
        await settled(h);
        assert.equal(extra, undefined);
        assert.equal((await waitForUsage(h, key.id, 1)).length, 1, 'one record');
        assert.equal(record.status, 'aborted');
        assert.equal(record.estimated, true);
        // The gateway may have relayed a word or two the client had not read yet, never the whole story.
        const low = countTextTokens(WORDS.slice(0, 10).join(''));
        const high = countTextTokens(WORDS.slice(0, 13).join(''));
        assert.ok(record.completion_tokens >= low && record.completion_tokens <= high, `completion ${record.completion_tokens} in [${low}, ${high}]`);
        assert.equal(record.prompt_tokens, estimatePromptTokens(MESSAGES));
        const cost = record.prompt_tokens * 2_000 + record.completion_tokens * 8_000;
        assert.equal(record.cost_nano, cost);
        assert.deepEqual(await money(storeOf(h), key.id), { balance: 1e9 - cost, reserved: 0, spent: cost });
        assert.deepEqual((await verifyLedger(storeOf(h))).mismatches, []);
      } finally {
        await h.close();
        await backend.close();
      }
    });

    it('keeps the prompt usage an upstream reported before the cut, and counts the output itself', async () => {
      const backend = await openBackend(kind);
      const h = await startHarness({ env: backend.env });
      try {
        const key = await h.createKey({ credit_usd: 1 });
        const event = (type: string, body: object): SseFrame => ({ event: type, data: JSON.stringify({ type, ...body }) });
        const frames: SseFrame[] = [
          event('message_start', {
            message: { id: 'msg_cut', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [], stop_reason: null, usage: { input_tokens: 700, cache_read_input_tokens: 300, output_tokens: 1 } },
          }),
          event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
          ...WORDS.map((w) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } })),
        ];
        h.sim.enqueue({ kind: 'sse', frames, delayMs: 40 });
        await readThenHangUp(h, key.key, { model: 'claude-haiku-4-5-20251001', messages: MESSAGES, max_tokens: 500 }, 5);
        const [record] = await waitForUsage(h, key.id, 1);
        assert.equal(record.status, 'aborted');
        assert.equal(record.estimated, true);
        assert.deepEqual([record.prompt_tokens, record.cached_tokens], [1_000, 300]);
        assert.ok(record.completion_tokens >= countTextTokens(WORDS.slice(0, 5).join('')));
        // Haiku 4.5: $1 input, $0.10 cache read, $5 output per 1M tokens.
        assert.equal(record.cost_nano, 700 * 1_000 + 300 * 100 + record.completion_tokens * 5_000);
      } finally {
        await h.close();
        await backend.close();
      }
    });

    it('on shutdown, lets a running stream finish within the drain timeout and writes its record before exiting', async () => {
      const backend = await openBackend(kind);
      const h = await startHarness({ env: { ...backend.env, OMNIGATE_DRAIN_TIMEOUT_MS: '5000' } });
      const databaseUrl = h.gateway.gw.config.databaseUrl;
      try {
        const key = await h.createKey({ credit_usd: 1 });
        h.sim.enqueue(openaiStream(WORDS.slice(0, 8), { prompt_tokens: 40, completion_tokens: 16, total_tokens: 56 }, { delayMs: 30 }));
        const stream = await key.client.chat.completions.create({ model: 'gpt-4.1', messages: MESSAGES, max_tokens: 100, stream: true });
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        const stopped = h.gateway.stop();
        let text = '';
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) text += r.value.choices[0]?.delta?.content ?? '';
        await stopped;
        assert.equal(text, WORDS.slice(0, 8).join(''));
        const store = await openStore(databaseUrl);
        try {
          const records = await listUsage(store, { keyId: key.id });
          assert.deepEqual(records.map((r) => [r.status, r.cost_nano]), [['ok', 40 * 2_000 + 16 * 8_000]]);
          assert.deepEqual(await money(store, key.id), { balance: 1e9 - 208_000, reserved: 0, spent: 208_000 });
        } finally {
          await store.close();
        }
      } finally {
        await h.close();
        await backend.close();
      }
    });

    it('on shutdown past the drain timeout, cuts the stream and still bills it once', async () => {
      const backend = await openBackend(kind);
      const h = await startHarness({ env: { ...backend.env, OMNIGATE_DRAIN_TIMEOUT_MS: '200' } });
      const databaseUrl = h.gateway.gw.config.databaseUrl;
      try {
        const key = await h.createKey({ credit_usd: 1 });
        h.sim.enqueue(openaiStream(WORDS, undefined, { delayMs: 100 }));
        const stream = await key.client.chat.completions.create({ model: 'gpt-4.1', messages: MESSAGES, max_tokens: 100, stream: true });
        const iterator = stream[Symbol.asyncIterator]();
        await iterator.next();
        await iterator.next();
        await h.gateway.stop();
        // The client sees its connection cut (the SDK throws "terminated").
        await assert.rejects(async () => {
          while (!(await iterator.next()).done);
        });
        const store = await openStore(databaseUrl);
        try {
          const records = await listUsage(store, { keyId: key.id });
          assert.equal(records.length, 1);
          assert.notEqual(records[0].status, 'ok');
          assert.ok(records[0].completion_tokens > 0 && records[0].completion_tokens < countTextTokens(WORDS.join('')));
          const m = await money(store, key.id);
          assert.deepEqual(m, { balance: 1e9 - records[0].cost_nano, reserved: 0, spent: records[0].cost_nano });
          assert.ok(records[0].cost_nano > 0);
        } finally {
          await store.close();
        }
      } finally {
        await h.close();
        await backend.close();
      }
    });
  });
}
