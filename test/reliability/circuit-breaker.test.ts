// The per-deployment circuit breaker on its own, with a controllable clock.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from '../../src/gateway/circuit-breaker.js';
import { backoffMs, orderDeployments } from '../../src/gateway/route.js';
import type { Deployment } from '../../src/catalog/catalog.js';

function breakers(threshold = 3, cooldownMs = 1_000) {
  let now = 0;
  const events: string[] = [];
  const b = new CircuitBreakers(
    { failureThreshold: threshold, cooldownMs, maxCooldownMs: cooldownMs * 4 },
    { onOpen: (id, ms) => events.push(`open ${id} ${ms}`), onClose: (id) => events.push(`close ${id}`) },
    () => now,
  );
  return { b, events, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  test('opens after the threshold of failures in a row, and only then', () => {
    const { b, events } = breakers(3);
    b.failure('a');
    b.failure('a');
    assert.equal(b.tryAcquire('a'), true);
    b.success('a'); // a success resets the count
    b.failure('a');
    b.failure('a');
    assert.equal(b.tryAcquire('a'), true);
    b.failure('a');
    assert.equal(b.tryAcquire('a'), false);
    assert.equal(b.tryAcquire('b'), true, 'other deployments are not affected');
    assert.deepEqual(events, ['open a 1000']);
  });

  test('after the cool-down exactly one probe goes through; its success closes the circuit', () => {
    const { b, events, advance } = breakers(1);
    b.failure('a');
    assert.equal(b.retryInMs(['a']), 1_000);
    advance(999);
    assert.equal(b.tryAcquire('a'), false);
    advance(1);
    assert.equal(b.tryAcquire('a'), true, 'the probe');
    assert.equal(b.tryAcquire('a'), false, 'a second caller waits for the probe');
    b.success('a');
    assert.equal(b.tryAcquire('a'), true);
    assert.equal(b.tryAcquire('a'), true);
    assert.deepEqual(events, ['open a 1000', 'close a']);
  });

  test('a failed probe reopens for twice as long, capped', () => {
    const { b, events, advance } = breakers(1);
    b.failure('a');
    for (const expected of [2_000, 4_000, 4_000]) {
      advance(10_000);
      assert.equal(b.tryAcquire('a'), true);
      b.failure('a');
      assert.equal(b.retryInMs(['a']), expected);
    }
    assert.deepEqual(events, ['open a 1000', 'open a 2000', 'open a 4000', 'open a 4000']);
  });

  test('a probe that never reports does not keep the deployment out forever', () => {
    const { b, advance } = breakers(1);
    b.failure('a');
    advance(1_000);
    assert.equal(b.tryAcquire('a'), true);
    advance(500);
    assert.equal(b.tryAcquire('a'), false);
    advance(600);
    assert.equal(b.tryAcquire('a'), true);
  });

  test('retryInMs is the soonest of several deployments, 0 when one is usable', () => {
    const { b, advance } = breakers(1);
    b.failure('a');
    advance(300);
    b.failure('b');
    assert.equal(b.retryInMs(['a', 'b']), 700);
    assert.equal(b.retryInMs(['a', 'c']), 0);
  });
});

describe('routing helpers', () => {
  const dep = (id: string, weight: number, apiKey = 'k'): Deployment => ({ id, provider: 'openai', dialect: 'openai', baseUrl: 'http://x', apiKey, apiKeyEnv: 'K', upstreamModel: 'm', weight });

  test('deployments are ordered by weight, and those without a key are left out', () => {
    const counts = { a: 0, b: 0 };
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 4000; i++) counts[orderDeployments([dep('a', 3), dep('b', 1), dep('c', 5, '')], random)[0].id as 'a' | 'b']++;
    assert.ok(counts.a > 2700 && counts.a < 3300, `a first ${counts.a} times of 4000`);
    assert.equal(orderDeployments([dep('a', 1), dep('b', 1)]).length, 2);
  });

  test('backoff is jittered under an exponential ceiling, and Retry-After wins', () => {
    assert.equal(backoffMs(0, 0, () => 0), 0);
    assert.equal(backoffMs(3, 1_500), 1_500);
    assert.equal(backoffMs(0, undefined, () => 0), 50);
    assert.equal(backoffMs(0, undefined, () => 1), 100);
    assert.equal(backoffMs(10, undefined, () => 1), 2_000, 'capped');
  });
});
