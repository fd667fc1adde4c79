// The fault matrix: every upstream failure a gateway meets, against every adapter's dialect, streaming
// and not. For each: what the client gets, that the gateway is still healthy, and exactly one usage record.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';
import type { Reply, ReplyFactory } from '../simulators/server.js';
import { defaultReply } from '../simulators/defaults.js';
import { assertEnvelope, assertHealthy, send, usageOf, type ClientView } from './support.js';

const TIMEOUT_MS = 300;
const MAX_RETRIES = 1;
/**
 * Faults whose handling is the same code whatever the dialect (waiting out Retry-After, giving up on a
 * silent upstream) and that cost a second or more each (undici checks its timeouts about twice a
 * second) run against the first model only; the rest run against every adapter.
 */
const FIRST_MODEL_ONLY = true;

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ kind: 'json', status, body, headers });
const serverError = json(500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
const repeat = (n: number, reply: ReplyFactory) => Array.from({ length: n }, () => reply);
/** The dialect's normal streamed answer, cut after half its frames. */
const cutStream = (how: 'resetAfter' | 'hangAfter'): ReplyFactory => (req) => {
  const reply = defaultReply(req);
  assert.equal(reply.kind, 'sse', 'the default streamed answer is SSE');
  const frames = (reply as Extract<Reply, { kind: 'sse' }>).frames;
  // The pause lets each frame reach the gateway before the cut: a reset right behind unread data discards it.
  return { ...(reply as Extract<Reply, { kind: 'sse' }>), delayMs: 5, [how]: Math.ceil(frames.length / 2) };
};

type Expect = (view: ClientView, upstreamCalls: number, usage: any) => void;

interface Fault {
  name: string;
  replies: ReplyFactory[];
  /** Which client modes the fault applies to. */
  modes: Array<'whole' | 'stream'>;
  /** Only for upstreams that really stream (not o1-pro, whose stream is synthesised from a whole answer). */
  midStream?: boolean;
  firstModelOnly?: boolean;
  expect: Expect;
}

const succeeded = (calls: number): Expect => (view, upstreamCalls, usage) => {
  assert.equal(view.status, 200, view.text.slice(0, 300));
  if (view.events.length) {
    assert.ok(view.done, 'the stream ends with [DONE]');
    assert.ok(!view.events.some((e) => e.error), 'no error event');
  } else {
    assert.ok(view.body.choices[0].message.content.length > 0);
  }
  assert.equal(upstreamCalls, calls, 'upstream calls');
  assert.equal(usage.status, 'ok');
  assert.ok(usage.completion_tokens > 0);
};

const failedBeforeFirstByte = (status: number, code: string, calls: number): Expect => (view, upstreamCalls, usage) => {
  assert.equal(view.status, status, view.text.slice(0, 300));
  assertEnvelope(view.body);
  assert.equal(view.body.error.code, code);
  assert.equal(upstreamCalls, calls, 'upstream calls');
  assert.notEqual(usage.status, 'ok');
  assert.equal(usage.http_status, status);
  assert.equal(usage.cost_usd, 0, 'nothing produced, nothing charged');
};

const failedMidStream = (code: string, usageStatus: string): Expect => (view, upstreamCalls, usage) => {
  assert.equal(view.status, 200, 'the stream had started');
  assert.ok(view.events.length >= 2, 'the chunks before the fault reached the client');
  assert.ok(view.events.slice(0, -1).every((e) => !e.error));
  const last = view.events.at(-1);
  assertEnvelope(last, 'in the final event');
  assert.equal(last.error.code, code);
  assert.equal(view.done, false, 'no [DONE] after an error');
  assert.equal(upstreamCalls, 1, 'never retried after the first byte');
  assert.equal(usage.status, usageStatus);
  assert.ok(usage.completion_tokens > 0, 'what was streamed is billed');
  assert.equal(usage.estimated, true, 'counted from the streamed text');
};

const faults: Fault[] = [
  { name: '500 once', replies: [serverError], modes: ['whole', 'stream'], expect: succeeded(2) },
  { name: '500 always', replies: repeat(MAX_RETRIES + 1, serverError), modes: ['whole', 'stream'], expect: failedBeforeFirstByte(502, 'upstream_error', MAX_RETRIES + 1) },
  {
    name: '429 with Retry-After: 1',
    replies: [json(429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '1' })],
    modes: ['whole', 'stream'],
    firstModelOnly: FIRST_MODEL_ONLY,
    expect: (view, calls, usage) => {
      succeeded(2)(view, calls, usage);
      assert.ok(view.ms >= 950, `waited for Retry-After (${Math.round(view.ms)} ms)`);
    },
  },
  {
    name: '429 with a Retry-After too long to wait',
    replies: [json(429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '120' })],
    modes: ['whole'],
    expect: (view, calls, usage) => {
      failedBeforeFirstByte(429, 'rate_limit_exceeded', 1)(view, calls, usage);
      assert.equal(view.headers.get('retry-after'), '120', 'the client is told when to come back');
    },
  },
  { name: 'connection reset before the first byte, once', replies: [{ kind: 'reset' }], modes: ['whole', 'stream'], expect: succeeded(2) },
  { name: 'connection reset before the first byte, always', replies: repeat(MAX_RETRIES + 1, { kind: 'reset' }), modes: ['whole', 'stream'], expect: failedBeforeFirstByte(502, 'upstream_error', MAX_RETRIES + 1) },
  { name: 'connection reset mid-stream', replies: [cutStream('resetAfter')], modes: ['stream'], midStream: true, expect: failedMidStream('upstream_error', 'error') },
  { name: 'hang before the first byte, once', replies: [{ kind: 'hang' }], modes: ['whole', 'stream'], expect: succeeded(2) },
  {
    name: 'hang before the first byte, always',
    replies: repeat(MAX_RETRIES + 1, { kind: 'hang' }),
    modes: ['whole', 'stream'],
    firstModelOnly: FIRST_MODEL_ONLY,
    expect: (view, calls, usage) => {
      failedBeforeFirstByte(504, 'upstream_timeout', MAX_RETRIES + 1)(view, calls, usage);
      assert.equal(usage.status, 'timeout');
    },
  },
  { name: 'hang mid-stream', replies: [cutStream('hangAfter')], modes: ['stream'], midStream: true, expect: failedMidStream('upstream_timeout', 'timeout') },
  {
    name: 'malformed JSON from the upstream',
    replies: [{ kind: 'text', status: 200, body: '{"id": "x", "choices": [{"message": ', headers: { 'content-type': 'application/json' } }],
    modes: ['whole'],
    expect: failedBeforeFirstByte(502, 'upstream_error', 1),
  },
  {
    name: 'malformed SSE from the upstream',
    replies: [{ kind: 'sse', frames: [], raw: 'this is not an event stream\n{"choices": [\n\n' }],
    modes: ['stream'],
    midStream: true,
    expect: failedBeforeFirstByte(502, 'upstream_error', 1),
  },
  {
    name: 'SSE events whose data is not JSON',
    replies: [{ kind: 'sse', frames: [], raw: 'data: {"choices": [\n\ndata: nonsense\n\n' }],
    modes: ['stream'],
    midStream: true,
    expect: failedBeforeFirstByte(502, 'upstream_error', 1),
  },
];

const models = [
  { model: 'gpt-4o-mini', realStream: true },
  { model: 'claude-sonnet-4-6', realStream: true },
  { model: 'gemini-1.5-flash', realStream: true },
  { model: 'o1-pro', realStream: false },
];

describe('fault matrix', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      env: {
        OMNIGATE_FIRST_BYTE_TIMEOUT_MS: String(TIMEOUT_MS),
        OMNIGATE_IDLE_TIMEOUT_MS: String(TIMEOUT_MS),
        OMNIGATE_MAX_RETRIES: String(MAX_RETRIES),
        // The breaker has its own tests; here every fault must reach the retry logic.
        OMNIGATE_BREAKER_FAILURES: '1000',
      },
    });
  });
  after(() => h.close());

  for (const { model, realStream } of models) {
    describe(model, () => {
      for (const fault of faults) {
        for (const mode of fault.modes) {
          if (fault.midStream && !realStream) continue;
          if (fault.firstModelOnly && model !== models[0].model) continue;
          test(`${fault.name} (${mode === 'stream' ? 'streaming' : 'non-streaming'})`, async () => {
            const key = await h.createKey();
            h.sim.reset();
            h.sim.enqueue(...fault.replies);
            const view = await send(h.url, key.key, {
              model,
              messages: [{ role: 'user', content: 'Tell me a short story about a fox who learns to fly over the hills.' }],
              ...(mode === 'stream' ? { stream: true } : {}),
            });
            const upstreamCalls = h.sim.requests.length;
            const usage = await usageOf(h, key.id);
            assert.equal(usage.length, 1, `exactly one usage record, got ${usage.length}`);
            fault.expect(view, upstreamCalls, usage[0]);
            h.sim.reset();
            await assertHealthy(h);
          });
        }
      }
    });
  }
});
