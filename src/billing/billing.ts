// Everything billing needs at run time, built once at start: the rate limiter (in-process, or shared
// through Redis when REDIS_URL is set), the batching settlement writer, and the sweep that frees
// reservations left by instances that died mid-request.

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../store/database.js';
import { closeRedis, openRedis, pingRedis } from '../store/redis.js';
import { foreignWriteCheck, releaseExpiredReservations } from './credit.js';
import { MemoryRateLimiter, type RateLimiter } from './rate-limit.js';
import { RedisRateLimiter } from './rate-limit-redis.js';
import { SettlementWriter } from './settlement-writer.js';

/** SQLite: how soon a balance changed by the CLI (another process) is seen by the gateway. */
const FOREIGN_WRITE_CHECK_MS = 1_000;

export interface Billing {
  limiter: RateLimiter;
  settlements: SettlementWriter;
  /** How long a reservation outlives its request before the sweep frees it. */
  reservationTtlMs: number;
  /** Readiness checks for /readyz, by name (Redis, when configured). */
  checks: Record<string, () => Promise<void>>;
  /** Shutdown has begun: settlements still failing after `deadline` are logged rather than retried. */
  shutdown(deadline: number): void;
  /** Stops the sweep and closes Redis; call after every pending settlement is written. */
  close(): Promise<void>;
}

export async function openBilling(config: Config, store: Store, log: Logger): Promise<Billing> {
  let redis: Redis | undefined;
  let limiter: RateLimiter = new MemoryRateLimiter();
  if (config.redisUrl) {
    redis = await openRedis(config.redisUrl, log);
    limiter = new RedisRateLimiter(redis, config.redisPrefix, log);
  }
  const settlements = new SettlementWriter(store, log);
  // Every instance sweeps; each expired reservation is released by exactly one of them (credit.ts).
  const sweepEveryMs = Math.min(30_000, Math.max(250, Math.floor(config.reservationTtlMs / 4)));
  const sweeper = setInterval(() => {
    releaseExpiredReservations(store)
      .then((released) => released && log.warn({ released }, 'released reservations of requests that never settled'))
      .catch((err) => log.warn({ err }, 'reservation sweep failed'));
  }, sweepEveryMs);
  sweeper.unref();
  let foreignWrites: NodeJS.Timeout | undefined;
  if (store.local) {
    const check = foreignWriteCheck(store);
    await check();
    foreignWrites = setInterval(() => check().catch((err) => log.warn({ err }, 'checking the database for other writers failed')), FOREIGN_WRITE_CHECK_MS);
    foreignWrites.unref();
  }
  return {
    limiter,
    settlements,
    reservationTtlMs: config.reservationTtlMs,
    checks: redis ? { redis: () => pingRedis(redis) } : {},
    shutdown: (deadline) => settlements.shutdown(deadline),
    async close() {
      clearInterval(sweeper);
      clearInterval(foreignWrites);
      await limiter.close();
      if (redis) await closeRedis(redis);
    },
  };
}
