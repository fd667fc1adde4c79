// Thousands of generated bad bodies (fast-check) against /v1/chat/completions and /aichat/conversations:
// every answer is a 4xx in the OpenAI error envelope — never a 500, never a crash, never an upstream call —
// and the gateway still serves a good request afterwards.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { startHarness, type Harness } from '../helpers/harness.js';
import { assertEnvelope, assertHealthy } from './support.js';

const BODY_LIMIT = 64 * 1024;
const MAX_MESSAGES = 50;
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);

const goodChat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const goodConversation = { model: 'gpt-4o-mini', question: 'hello' };

const notAString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
const notANumber = fc.oneof(fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
const notABoolean = fc.oneof(fc.string(), fc.integer(), fc.array(fc.boolean(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.boolean(), { maxKeys: 2 }));
const notAnArray = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
// Finite only: JSON has no Infinity (JSON.stringify writes null, which means "not set" and is valid).
const finite = { noNaN: true, noDefaultInfinity: true } as const;
const outside = (min: number, max: number) => fc.oneof(fc.double({ ...finite, max: min }).filter((x) => x < min), fc.double({ ...finite, min: max }).filter((x) => x > max));
const badMessage = fc.oneof(
  fc.record({ role: fc.string().filter((r) => !['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(r)), content: fc.string() }),
  fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'tool'), content: fc.oneof(fc.integer(), fc.boolean(), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })) }),
  fc.record({ role: fc.constant('user') }),
  fc.record({ role: fc.constant('tool'), content: fc.string() }),
  fc.record({ role: fc.constant('user'), content: fc.constant([]) }),
  fc.record({ role: fc.constant('user'), content: fc.array(fc.record({ type: fc.constantFrom('image_url', 'text'), oops: fc.string() }), { minLength: 1, maxLength: 2 }) }),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
);

/** One field of a valid chat request replaced by a value of the wrong type or out of range. */
const chatMutation: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ model: fc.oneof(notAString, fc.constant('')) }),
  fc.record({ messages: fc.oneof(notAnArray, fc.constant([]), fc.array(badMessage, { minLength: 1, maxLength: 3 })) }),
  fc.record({ temperature: fc.oneof(notANumber, outside(0, 2)) }),
  fc.record({ top_p: fc.oneof(notANumber, outside(0, 1)) }),
  fc.record({ max_tokens: fc.oneof(notANumber, fc.integer({ max: 0 }), fc.double({ ...finite, min: 1.01, max: 1e6 }).filter((x) => !Number.isInteger(x))) }),
  fc.record({ n: fc.oneof(notANumber, fc.integer({ max: 0 }), fc.integer({ min: 129 })) }),
  fc.record({ stop: fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { minLength: 5, maxLength: 8 })) }),
  fc.record({ stream: notABoolean }),
  fc.record({ stream_options: fc.record({ include_usage: fc.boolean() }) }),
  fc.record({ tools: fc.oneof(notAnArray, fc.array(fc.record({ type: fc.string().filter((t) => t !== 'function'), function: fc.record({ name: fc.constant('f') }) }), { minLength: 1, maxLength: 2 })) }),
  fc.record({ tools: fc.constant([{ type: 'function', function: { name: 'has spaces and !' } }]) }),
  fc.record({ tool_choice: fc.oneof(fc.string().filter((c) => !['none', 'auto', 'required'].includes(c)), fc.integer()) }),
  fc.record({ response_format: fc.oneof(fc.string(), fc.record({ type: fc.string().filter((t) => !['text', 'json_object', 'json_schema'].includes(t)) })) }),
  fc.record({ reasoning_effort: fc.oneof(fc.string().filter((e) => !['none', 'minimal', 'low', 'medium', 'high', 'xhigh'].includes(e)), fc.integer()) }),
  fc.record({ presence_penalty: fc.oneof(notANumber, outside(-2, 2)) }),
  fc.record({ logit_bias: fc.oneof(fc.string(), fc.dictionary(fc.string(), fc.double({ ...finite, min: 100.5 }), { minKeys: 1, maxKeys: 2 })) }),
  fc.record({ top_logprobs: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ seed: fc.oneof(fc.string(), fc.double(finite).filter((x) => !Number.isInteger(x))) }),
  fc.record({ user: fc.oneof(fc.integer(), fc.boolean()) }),
);

const conversationMutation: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ model: fc.oneof(notAString, fc.constant('')) }),
  fc.record({ question: fc.oneof(notAString, fc.constant('')) }),
  fc.record({ id: fc.oneof(fc.integer(), fc.boolean(), fc.constant(''), fc.string({ minLength: 201, maxLength: 300 })) }),
  fc.record({ preset: fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 })) }),
  fc.record({ stateful: notABoolean }),
  fc.record({ references: fc.oneof(notAnArray, fc.array(fc.oneof(fc.integer(), fc.constant('')), { minLength: 1, maxLength: 3 }), fc.array(fc.string({ minLength: 1 }), { minLength: 17, maxLength: 20 })) }),
  fc.record({ temperature: fc.oneof(notANumber, outside(0, 2)) }),
  fc.record({ max_tokens: fc.oneof(notANumber, fc.integer({ max: 0 })) }),
);

/** Text that is not JSON at all, or JSON cut short. */
const notJson = fc.oneof(
  fc.string({ minLength: 1 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  fc.jsonValue().map((v) => JSON.stringify(v)).filter((s) => s.length > 2).map((s) => s.slice(0, -1)),
);
const nonObject = fc.oneof(fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v)));
const randomObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((o) => JSON.stringify(o));
const deep = fc.integer({ min: 130, max: 20_000 }).chain((depth) => fc.constantFrom('[', '{"a":').map((open) => {
  const close = open === '[' ? ']' : '}';
  return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":${open.repeat(depth)}1${close.repeat(depth)}}`;
}));
const huge = fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 4 }).map((n) => JSON.stringify({ ...goodChat, messages: [{ role: 'user', content: 'x'.repeat(n) }] }));
const tooManyMessages = fc.integer({ min: MAX_MESSAGES + 1, max: MAX_MESSAGES * 4 }).map((n) => JSON.stringify({ ...goodChat, messages: Array.from({ length: n }, () => ({ role: 'user', content: 'hi' })) }));

describe('generated bad bodies', () => {
  let h: Harness;
  const agent = new Agent({ connections: 8 });
  let sent = 0;
  before(async () => {
    h = await startHarness({ env: { OMNIGATE_BODY_LIMIT_BYTES: String(BODY_LIMIT), OMNIGATE_MAX_MESSAGES: String(MAX_MESSAGES) } });
  });
  after(async () => {
    await agent.close();
    await h.close();
  });

  async function post(path: string, body: string, contentType = 'application/json'): Promise<void> {
    sent++;
    const res = await request(`${h.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': contentType },
      body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    const context = `${path} ${body.slice(0, 200)} → ${res.statusCode} ${text.slice(0, 200)}`;
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, context);
    let parsed: unknown;
    assert.doesNotThrow(() => (parsed = JSON.parse(text)), context);
    assertEnvelope(parsed, context);
  }

  const endpoints = [
    { path: '/v1/chat/completions', good: goodChat, mutation: chatMutation },
    { path: '/aichat/conversations', good: goodConversation, mutation: conversationMutation },
  ];

  for (const { path, good, mutation } of endpoints) {
    describe(path, () => {
      test('a valid body with one field of the wrong type or out of range', async () => {
        await fc.assert(fc.asyncProperty(mutation, (m) => post(path, JSON.stringify({ ...good, ...m }))), { numRuns: RUNS * 2 });
      });
      test('bodies that are not JSON, or JSON cut short', async () => {
        await fc.assert(fc.asyncProperty(notJson, (body) => post(path, body)), { numRuns: RUNS });
      });
      test('JSON that is not an object, or an object of random fields', async () => {
        await fc.assert(fc.asyncProperty(fc.oneof(nonObject, randomObject), (body) => post(path, body)), { numRuns: RUNS });
      });
      test('deep nesting, bodies over the size limit, wrong content types', async () => {
        await fc.assert(fc.asyncProperty(deep, (body) => post(path, body)), { numRuns: 40 });
        await fc.assert(fc.asyncProperty(huge, (body) => post(path, body)), { numRuns: 10 });
        await fc.assert(fc.asyncProperty(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'image/png'), (type) => post(path, JSON.stringify(good), type)), { numRuns: 6 });
      });
    });
  }

  test('more messages than the limit', async () => {
    await fc.assert(fc.asyncProperty(tooManyMessages, (body) => post('/v1/chat/completions', body)), { numRuns: 20 });
  });

  test('nothing reached the upstream, and the gateway still answers a good request', async () => {
    assert.ok(sent > 2_000, `${sent} bad bodies sent`);
    assert.equal(h.sim.requests.length, 0, `bad bodies that reached the upstream: ${h.sim.requests.map((r) => r.rawBody.slice(0, 200)).join('\n')}`);
    await assertHealthy(h);
  });
});
