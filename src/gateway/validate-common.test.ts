import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { commonChatRequest } from './validate-common.js';
import { SCHEMA_FIELDS, parseWithSchema, validateChatRequest } from './validate-request.js';

const fast = (body: unknown) => commonChatRequest(structuredClone(body) as Record<string, unknown>, SCHEMA_FIELDS);
const schema = (body: unknown) => parseWithSchema(structuredClone(body));

test('the common request takes the fast path and comes out as the schema makes it', () => {
  const body = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi', name: 'ann' }, { role: 'assistant', content: '' }],
    max_tokens: 64, temperature: null, stream: true, store: true, metadata: { a: 'b' }, service_tier: null,
  };
  const quick = fast(body);
  assert.ok(quick, 'the fast path takes it');
  assert.deepEqual(quick, schema(body));
  assert.equal('temperature' in quick, false, 'an explicit null is "not set"');
});

test('anything outside the common shape goes to the schema', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
  for (const body of [
    { ...base, tools: [] },
    { ...base, stop: 'x' },
    { ...base, stream_options: { include_usage: true } },
    { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
    { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] },
    { ...base, messages: [{ role: 'assistant', content: 'x', tool_calls: [] }] },
    { ...base, messages: [{ role: 'user', content: 'x', extra: 1 }] },
    { ...base, user: null },
    { ...base, max_tokens: 0 },
    { ...base, temperature: 2.5 },
    { ...base, model: '' },
    { ...base, messages: [] },
    { model: 'm' },
    JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":1}}'),
  ]) {
    assert.equal(fast(body), undefined, JSON.stringify(body));
  }
});

// The fast path may only accept what the schema accepts, and must then return exactly what it returns.
const scalar = fc.oneof(
  fc.constant(null), fc.boolean(), fc.string({ maxLength: 3 }), fc.integer({ min: -5, max: 200 }),
  fc.double({ min: -3, max: 3, noNaN: true }), fc.constant(1e20), fc.constant([]), fc.constant({}),
);
// Mostly valid values, so that a good share of bodies takes the fast path, with every kind of wrong one mixed in.
const often = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: scalar, weight: 1 });
const absent = fc.constant(undefined);
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof(absent, arb);
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: absent, weight: 12 }, { arbitrary: arb, weight: 1 });
const messageArb = fc
  .record({
    role: often(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function', 'bot')),
    content: often(fc.oneof({ arbitrary: fc.string({ maxLength: 8 }), weight: 5 }, fc.constant(null), fc.constant([{ type: 'text', text: 'x' }]))),
    name: sometimes(often(fc.string({ maxLength: 4 }))),
    tool_call_id: rarely(fc.string({ maxLength: 4 })),
    extra: rarely(scalar),
  })
  .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)));
const bodyArb = fc
  .record({
    model: often(fc.constant('gpt-4o-mini')),
    messages: often(fc.array(messageArb, { minLength: 1, maxLength: 3 })),
    temperature: sometimes(often(fc.double({ min: 0, max: 2, noNaN: true }))),
    top_p: sometimes(often(fc.double({ min: 0, max: 1, noNaN: true }))),
    n: sometimes(often(fc.integer({ min: 1, max: 128 }))),
    max_tokens: sometimes(often(fc.integer({ min: 1, max: 10_000 }))),
    max_completion_tokens: rarely(scalar),
    stream: sometimes(often(fc.boolean())),
    seed: rarely(scalar),
    user: sometimes(often(fc.string({ maxLength: 4 }))),
    presence_penalty: rarely(scalar),
    frequency_penalty: rarely(scalar),
    logprobs: rarely(scalar),
    top_logprobs: rarely(scalar),
    parallel_tool_calls: rarely(scalar),
    stop: rarely(scalar),
    store: rarely(scalar),
    metadata: rarely(scalar),
  })
  .map((body) => Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)));

test('generated bodies: whenever the fast path accepts, the schema accepts and agrees', () => {
  let taken = 0;
  fc.assert(
    fc.property(bodyArb, (body) => {
      const quick = fast(body);
      if (quick === undefined) return;
      taken++;
      assert.deepEqual(quick, schema(body));
    }),
    { numRuns: 20_000 },
  );
  assert.ok(taken > 200, `the fast path was taken ${taken} times`);
});

test('the checks after the schema still apply on the fast path', () => {
  assert.throws(() => validateChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: false, top_logprobs: 2 }), /top_logprobs/);
});
