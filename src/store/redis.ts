// The Redis connection (REDIS_URL), shared by every instance for rate-limit counters. Commands fail
// fast instead of queueing while Redis is away, so a Redis outage never stalls a request: callers fall
// back (see billing/rate-limit-redis.ts) and /readyz reports the outage.

import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 500;
const LOG_EVERY_MS = 10_000;

export async function openRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Keep reconnecting, at most every 2 s, for as long as the process runs.
    retryStrategy: (attempt) => Math.min(2_000, 50 * attempt),
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastLogged < LOG_EVERY_MS) return;
    lastLogged = Date.now();
    log.warn({ err: { message: err.message } }, 'Redis connection error');
  });
  try {
    await redis.connect();
  } catch (err) {
    // Start anyway: ioredis keeps reconnecting, limits fail open meanwhile and /readyz says not ready.
    log.error({ err: { message: (err as Error).message } }, 'Redis unreachable at start');
  }
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
