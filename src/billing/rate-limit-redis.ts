// The rate limiter shared by every instance through Redis: the algorithm of rate-limit.ts as two Lua
// scripts, so the check and the count are one atomic step whichever instance runs them. Time is Redis's
// own clock (TIME), so instances with skewed clocks still agree on the window.
//
// One hash per key, fields `r:<second>` (requests) and `t:<second>` (tokens), expiring a window after
// its last write. If Redis cannot be reached the request is let through (logged): limits protect
// upstream quotas, while money never depends on Redis (credit.ts), so failing open cannot overspend.

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { WINDOW_SECONDS, hasLimits, type Admission, type RateLimiter, type RateLimits, type RateTicket } from './rate-limit.js';

const ADMIT = `
local now = tonumber(redis.call('TIME')[1])
local rpm, tpm, est = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local fields = redis.call('HGETALL', KEYS[1])
local buckets, order = {}, {}
local reqs, toks = 0, 0
for i = 1, #fields, 2 do
  local f = fields[i]
  local sec = tonumber(string.sub(f, 3))
  local v = tonumber(fields[i + 1])
  if sec <= now - window then
    redis.call('HDEL', KEYS[1], f)
  else
    local b = buckets[sec]
    if not b then b = {0, 0}; buckets[sec] = b; table.insert(order, sec) end
    if string.sub(f, 1, 1) == 'r' then b[1] = b[1] + v; reqs = reqs + v else b[2] = b[2] + v; toks = toks + v end
  end
end
table.sort(order)
local function wait_until(used, limit, idx, extra, strict)
  local left = used
  for _, sec in ipairs(order) do
    left = left - buckets[sec][idx]
    if (strict and left + extra < limit) or ((not strict) and left + extra <= limit) then
      return math.max(1, sec + window - now)
    end
  end
  return window
end
if rpm > 0 and reqs >= rpm then return {0, 1, wait_until(reqs, rpm, 1, 0, true), 0} end
if tpm > 0 then
  if est > tpm then return {0, 2, window, 1} end
  if toks + est > tpm then return {0, 2, wait_until(toks, tpm, 2, est, false), 0} end
end
redis.call('HINCRBY', KEYS[1], 'r:' .. now, 1)
if est > 0 then redis.call('HINCRBY', KEYS[1], 't:' .. now, est) end
redis.call('EXPIRE', KEYS[1], window + 1)
return {1, now, 0, 0}
`;

const SETTLE = `
local now = tonumber(redis.call('TIME')[1])
local sec, delta, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if sec <= now - window or delta == 0 then return 0 end
local field = 't:' .. sec
if redis.call('HEXISTS', KEYS[1], field) == 0 and delta < 0 then return 0 end
local v = redis.call('HINCRBY', KEYS[1], field, delta)
if v < 0 then redis.call('HSET', KEYS[1], field, 0) end
redis.call('EXPIRE', KEYS[1], window + 1)
return v
`;

type ScriptedRedis = Redis & {
  omnigateAdmit(key: string, rpm: number, tpm: number, est: number, window: number): Promise<[number, number, number, number]>;
  omnigateSettle(key: string, second: number, delta: number, window: number): Promise<number>;
};

/** Logs Redis failures at most this often, so an outage does not flood the log. */
const LOG_EVERY_MS = 10_000;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: ScriptedRedis;
  private lastLogged = 0;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    redis.defineCommand('omnigateAdmit', { numberOfKeys: 1, lua: ADMIT });
    redis.defineCommand('omnigateSettle', { numberOfKeys: 1, lua: SETTLE });
    this.redis = redis as ScriptedRedis;
  }

  private key(keyId: string): string {
    return `${this.prefix}rl:{${keyId}}`;
  }

  private failedOpen(err: unknown, what: string): void {
    if (Date.now() - this.lastLogged < LOG_EVERY_MS) return;
    this.lastLogged = Date.now();
    this.log.warn({ err }, `Redis unreachable: ${what} without the shared rate limit`);
  }

  async admit(keyId: string, limits: RateLimits, promptTokens: number): Promise<Admission> {
    if (!hasLimits(limits)) return { ok: true };
    const tokens = Math.max(0, Math.ceil(promptTokens));
    try {
      const [ok, a, b, tooLarge] = await this.redis.omnigateAdmit(this.key(keyId), limits.rpm ?? 0, limits.tpm ?? 0, tokens, WINDOW_SECONDS);
      if (ok === 1) return { ok: true, ticket: { second: a, tokens } };
      return { ok: false, limit: a === 1 ? 'rpm' : 'tpm', retryAfterSeconds: b, tooLarge: tooLarge === 1 };
    } catch (err) {
      this.failedOpen(err, 'admitting requests');
      return { ok: true };
    }
  }

  async settle(keyId: string, ticket: RateTicket, usedTokens: number): Promise<void> {
    try {
      await this.redis.omnigateSettle(this.key(keyId), ticket.second, Math.round(usedTokens - ticket.tokens), WINDOW_SECONDS);
    } catch (err) {
      this.failedOpen(err, 'counting tokens');
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the caller (billing.ts), which closes it.
  }
}
