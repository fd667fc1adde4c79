// The RPM/TPM limiter: the sliding window in process (with a clock we move), the same decisions from
// the Redis scripts, and Redis being away (requests go through: money never depends on Redis).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { MemoryRateLimiter, type RateLimiter, type RateTicket } from '../../src/billing/rate-limit.js';
import { RedisRateLimiter } from '../../src/billing/rate-limit-redis.js';
import { REDIS_URL, servicesUp } from './support/backends.js';

const silent = pino({ level: 'silent' });

describe('in-process rate limiter', () => {
  let now = 1_000_000_000_000;
  const limiter = new MemoryRateLimiter(() => now);
  const tick = (seconds: number) => (now += seconds * 1000);

  it('refuses the request past the RPM limit until the oldest request leaves the 60-second window', async () => {
    const limits = { rpm: 3, tpm: null };
    assert.equal((await limiter.admit('k1', limits, 10)).ok, true);
    assert.equal((await limiter.admit('k1', limits, 10)).ok, true);
    tick(20);
    assert.equal((await limiter.admit('k1', limits, 10)).ok, true);
    tick(10);
    assert.deepEqual(await limiter.admit('k1', limits, 10), { ok: false, limit: 'rpm', retryAfterSeconds: 30, tooLarge: false });
    tick(30);
    assert.equal((await limiter.admit('k1', limits, 10)).ok, true, 'the first two left the window');
    assert.equal((await limiter.admit('k1', limits, 10)).ok, true);
    assert.deepEqual(await limiter.admit('k1', limits, 10), { ok: false, limit: 'rpm', retryAfterSeconds: 20, tooLarge: false });
  });

  it('counts the prompt estimate at admission and the real tokens at settlement', async () => {
    const limits = { rpm: null, tpm: 100 };
    const first = await limiter.admit('k2', limits, 50);
    assert.ok(first.ok && first.ticket);
    await limiter.settle('k2', first.ticket as RateTicket, 80); // prompt + completion as the upstream reported
    assert.deepEqual(await limiter.admit('k2', limits, 30), { ok: false, limit: 'tpm', retryAfterSeconds: 60, tooLarge: false });
    assert.equal((await limiter.admit('k2', limits, 20)).ok, true);
    assert.deepEqual(await limiter.admit('k2', limits, 101), { ok: false, limit: 'tpm', retryAfterSeconds: 60, tooLarge: true });
  });

  it('gives back the estimate of a request that never ran', async () => {
    const limits = { rpm: null, tpm: 100 };
    const a = await limiter.admit('k3', limits, 90);
    assert.ok(a.ok && a.ticket);
    await limiter.settle('k3', a.ticket as RateTicket, 0);
    assert.equal((await limiter.admit('k3', limits, 90)).ok, true);
  });

  it('does not count keys without limits', async () => {
    assert.deepEqual(await limiter.admit('k4', { rpm: null, tpm: null }, 1e9), { ok: true });
  });
});

const redisSkip = (await servicesUp()) ? false : `Redis not reachable at ${REDIS_URL}`;

describe('Redis rate limiter', { skip: redisSkip }, () => {
  let redis: Redis;
  let prefix: string;
  let limiter: RateLimiter;
  before(async () => {
    redis = new Redis(REDIS_URL);
    prefix = `og-test:${randomBytes(6).toString('hex')}:`;
    limiter = new RedisRateLimiter(redis, prefix, silent);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('makes the same decisions as the in-process limiter', async () => {
    const memory = new MemoryRateLimiter();
    const limits = { rpm: 5, tpm: 300 };
    const script: Array<[prompt: number, used: number]> = [[50, 120], [10, 40], [100, 90], [60, 0], [30, 10], [200, 200], [5, 5], [5, 5]];
    const decisions = async (l: RateLimiter, keyId: string) => {
      const out: string[] = [];
      for (const [prompt, used] of script) {
        const a = await l.admit(keyId, limits, prompt);
        out.push(a.ok ? 'ok' : `${a.limit}${a.tooLarge ? '-too-large' : ''}`);
        if (a.ok && a.ticket) await l.settle(keyId, a.ticket, used);
      }
      return out;
    };
    const expected = await decisions(memory, 'same');
    // 250 tokens used after three: 60 more would pass 300; the sixth request is the fifth admitted.
    assert.deepEqual(expected, ['ok', 'ok', 'ok', 'tpm', 'ok', 'tpm', 'ok', 'rpm']);
    assert.deepEqual(await decisions(limiter, 'same'), expected);
  });

  it('refuses past the RPM limit with a Retry-After within the window, and keys expire after it', async () => {
    const limits = { rpm: 2, tpm: null };
    assert.equal((await limiter.admit('rpm', limits, 1)).ok, true);
    assert.equal((await limiter.admit('rpm', limits, 1)).ok, true);
    const refused = await limiter.admit('rpm', limits, 1);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.retryAfterSeconds >= 59 && refused.retryAfterSeconds <= 60);
    const ttl = await redis.ttl(`${prefix}rl:{rpm}`);
    assert.ok(ttl > 0 && ttl <= 61, `ttl ${ttl}`);
  });

  it('counts TPM by real usage and refuses a prompt larger than the limit', async () => {
    const limits = { rpm: null, tpm: 100 };
    const a = await limiter.admit('tpm', limits, 10);
    assert.ok(a.ok && a.ticket);
    await limiter.settle('tpm', a.ticket!, 95);
    const refused = await limiter.admit('tpm', limits, 10);
    assert.ok(!refused.ok && refused.limit === 'tpm' && !refused.tooLarge);
    assert.equal((await limiter.admit('tpm', limits, 5)).ok, true);
    const large = await limiter.admit('tpm-2', limits, 101);
    assert.ok(!large.ok && large.tooLarge);
  });

  it('lets requests through when Redis cannot be reached', async () => {
    const away = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    away.on('error', () => {});
    const open = new RedisRateLimiter(away, prefix, silent);
    assert.deepEqual(await open.admit('any', { rpm: 1, tpm: null }, 1), { ok: true });
    assert.deepEqual(await open.admit('any', { rpm: 1, tpm: null }, 1), { ok: true });
    away.disconnect();
  });
});
