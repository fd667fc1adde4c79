// Per-key requests-per-minute and tokens-per-minute limits over a sliding 60-second window kept in
// one-second buckets. The in-process limiter below serves a single instance; with REDIS_URL the same
// algorithm runs as Lua scripts in Redis (rate-limit-redis.ts) so every instance shares the counters.
//
// How tokens are counted: a request is admitted when the tokens of the window plus its estimated
// prompt fit the TPM limit; the estimate is counted at once (so a burst of large prompts is held back)
// and replaced by the tokens the request really used (prompt + completion, as the upstream reported)
// when it settles, in the bucket of the second it was admitted. Output tokens are only known afterwards,
// so concurrent requests can together exceed the limit by their outputs; the next ones then wait.
// A refused request counts toward neither limit.

export const WINDOW_SECONDS = 60;

export interface RateLimits {
  rpm: number | null;
  tpm: number | null;
}

/** What an admitted request holds, to correct its token count when it settles. */
export interface RateTicket {
  /** The bucket (epoch second of the limiter's clock) the request was counted in. */
  second: number;
  /** Tokens counted at admission (the prompt estimate). */
  tokens: number;
}

export type Admission =
  | { ok: true; ticket?: RateTicket }
  | { ok: false; limit: 'rpm' | 'tpm'; retryAfterSeconds: number; /** the prompt alone exceeds the TPM limit */ tooLarge: boolean };

export interface RateLimiter {
  admit(keyId: string, limits: RateLimits, promptTokens: number): Promise<Admission>;
  /** Replaces the admission estimate by the tokens the request actually used. */
  settle(keyId: string, ticket: RateTicket, usedTokens: number): Promise<void>;
  close(): Promise<void>;
}

export const hasLimits = (limits: RateLimits): boolean => Boolean(limits.rpm || limits.tpm);

interface Bucket {
  requests: number;
  tokens: number;
}

/**
 * The admission decision on a window of buckets (oldest first), shared by both limiters so they agree:
 * how long until enough old buckets leave the window for the request to fit.
 */
export function decide(
  buckets: Array<[second: number, bucket: Bucket]>,
  now: number,
  limits: RateLimits,
  promptTokens: number,
): { ok: true } | { ok: false; limit: 'rpm' | 'tpm'; retryAfterSeconds: number; tooLarge: boolean } {
  let requests = 0;
  let tokens = 0;
  for (const [, b] of buckets) {
    requests += b.requests;
    tokens += b.tokens;
  }
  const waitUntilFits = (used: number, fits: (left: number) => boolean, of: (b: Bucket) => number): number => {
    let left = used;
    for (const [second, b] of buckets) {
      left -= of(b);
      if (fits(left)) return Math.max(1, second + WINDOW_SECONDS - now);
    }
    return WINDOW_SECONDS;
  };
  if (limits.rpm && requests >= limits.rpm) {
    return { ok: false, limit: 'rpm', retryAfterSeconds: waitUntilFits(requests, (left) => left < limits.rpm!, (b) => b.requests), tooLarge: false };
  }
  if (limits.tpm) {
    if (promptTokens > limits.tpm) return { ok: false, limit: 'tpm', retryAfterSeconds: WINDOW_SECONDS, tooLarge: true };
    if (tokens + promptTokens > limits.tpm) {
      return { ok: false, limit: 'tpm', retryAfterSeconds: waitUntilFits(tokens, (left) => left + promptTokens <= limits.tpm!, (b) => b.tokens), tooLarge: false };
    }
  }
  return { ok: true };
}

/** Counters in this process only: right for one instance, and the fallback when Redis is not configured. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly keys = new Map<string, Map<number, Bucket>>();

  constructor(private readonly clock: () => number = Date.now) {}

  private window(keyId: string, now: number): Map<number, Bucket> {
    let buckets = this.keys.get(keyId);
    if (!buckets) {
      if (this.keys.size >= 100_000) this.prune(now);
      buckets = new Map();
      this.keys.set(keyId, buckets);
    }
    for (const second of buckets.keys()) if (second <= now - WINDOW_SECONDS) buckets.delete(second);
    return buckets;
  }

  private prune(now: number): void {
    for (const [keyId, buckets] of this.keys) {
      if (![...buckets.keys()].some((s) => s > now - WINDOW_SECONDS)) this.keys.delete(keyId);
    }
  }

  async admit(keyId: string, limits: RateLimits, promptTokens: number): Promise<Admission> {
    if (!hasLimits(limits)) return { ok: true };
    const now = Math.floor(this.clock() / 1000);
    const buckets = this.window(keyId, now);
    const verdict = decide([...buckets.entries()].sort((a, b) => a[0] - b[0]), now, limits, promptTokens);
    if (!verdict.ok) return verdict;
    const bucket = buckets.get(now) ?? { requests: 0, tokens: 0 };
    bucket.requests += 1;
    bucket.tokens += promptTokens;
    buckets.set(now, bucket);
    return { ok: true, ticket: { second: now, tokens: promptTokens } };
  }

  async settle(keyId: string, ticket: RateTicket, usedTokens: number): Promise<void> {
    const now = Math.floor(this.clock() / 1000);
    if (ticket.second <= now - WINDOW_SECONDS) return;
    const bucket = this.keys.get(keyId)?.get(ticket.second);
    if (bucket) bucket.tokens = Math.max(0, bucket.tokens + usedTokens - ticket.tokens);
  }

  async close(): Promise<void> {
    this.keys.clear();
  }
}
