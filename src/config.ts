// Environment and optional config file, validated once at start. A bad value stops the process
// with one line that names the variable (PORT=abc → "PORT: expected an integer 1-65535, got "abc"").

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const port = z.coerce
  .number({ error: 'expected an integer port number 0-65535' })
  .int('expected an integer port number 0-65535')
  .min(0, 'expected an integer port number 0-65535')
  .max(65535, 'expected an integer port number 0-65535');
const positiveMs = z.coerce.number().int().min(1);

const priceTable = z.object({
  input: z.number().min(0),
  cachedInput: z.number().min(0).optional(),
  output: z.number().min(0),
  cacheWrite5m: z.number().min(0).optional(),
  cacheWrite1h: z.number().min(0).optional(),
});

const modelEntry = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstreamModel: z.string().min(1),
  dialect: z.enum(['openai', 'anthropic', 'gemini', 'openai-responses']).optional(),
  contextWindow: z.number().int().positive(),
  maxOutput: z.number().int().positive(),
  capabilities: z.object({
    vision: z.boolean(),
    tools: z.boolean(),
    reasoning: z.boolean(),
    streaming: z.boolean().optional(),
  }),
  pricing: priceTable.extend({ tiers: z.array(priceTable.extend({ aboveInputTokens: z.number().int() })).optional() }),
  quirks: z.record(z.string(), z.unknown()).optional(),
});

const deployment = z.object({
  /** Defaults to the provider's base URL from the environment. */
  baseUrl: z.string().url().optional(),
  /** Name of an environment variable that holds the key (keys never belong in a config file). */
  apiKeyEnv: z.string().optional(),
  weight: z.number().positive().default(1),
  upstreamModel: z.string().optional(),
  pricing: priceTable.optional(),
});

const providerEntry = z.object({
  id: z.string().min(1),
  dialect: z.enum(['openai', 'anthropic', 'gemini', 'openai-responses']),
  baseUrl: z.string().url(),
  apiKeyEnv: z.string().optional(),
});

export const configFileSchema = z
  .object({
    providers: z.array(providerEntry).default([]),
    models: z.array(modelEntry).default([]),
    aliases: z.record(z.string(), z.string()).default({}),
    deployments: z.record(z.string(), z.array(deployment).min(1)).default({}),
    fallbacks: z.record(z.string(), z.array(z.string())).default({}),
    prices: z.record(z.string(), priceTable).default({}),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
export type DeploymentConfig = z.infer<typeof deployment>;

const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres:\/\/|postgresql:\/\/)/, 'expected file:… or postgres://…')
    .default('file:./data/omnigate.db'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://…').optional(),
  /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
  OMNIGATE_REDIS_PREFIX: z.string().min(1).default('omnigate:'),
  /** How long a reservation survives its request (a crashed instance's reservations free up after it). */
  OMNIGATE_RESERVATION_TTL_MS: positiveMs.optional(),
  OMNIGATE_ADMIN_KEY: z.string().min(8, 'must be at least 8 characters').optional(),
  OMNIGATE_CONFIG: z.string().optional(),
  OMNIGATE_ALLOW_PRIVATE_URLS: z.enum(['0', '1', 'true', 'false']).optional(),
  OMNIGATE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OMNIGATE_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
  OMNIGATE_CONNECT_TIMEOUT_MS: positiveMs.default(10_000),
  OMNIGATE_FIRST_BYTE_TIMEOUT_MS: positiveMs.default(120_000),
  OMNIGATE_IDLE_TIMEOUT_MS: positiveMs.default(120_000),
  OMNIGATE_TOTAL_TIMEOUT_MS: positiveMs.default(600_000),
  OMNIGATE_DRAIN_TIMEOUT_MS: positiveMs.default(30_000),
  OMNIGATE_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Failures in a row that take a deployment out of rotation, and for how long (circuit breaker). */
  OMNIGATE_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  OMNIGATE_BREAKER_COOLDOWN_MS: positiveMs.default(30_000),
  OMNIGATE_MAX_MESSAGES: z.coerce.number().int().min(1).default(2048),
  /** A stream still waiting for its first chunk sends an SSE comment this often, so proxies keep it open. */
  OMNIGATE_STREAM_KEEPALIVE_MS: positiveMs.default(15_000),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl?: string;
  redisPrefix: string;
  reservationTtlMs: number;
  adminKey: string;
  adminKeyGenerated: boolean;
  allowPrivateUrls: boolean;
  logLevel: string;
  bodyLimitBytes: number;
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number; totalMs: number; drainMs: number };
  maxRetries: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  maxMessages: number;
  streamKeepAliveMs: number;
  file: ConfigFile;
  /** The raw environment, for provider base URLs and keys (looked up by name from the catalog). */
  env: Record<string, string | undefined>;
}

export class ConfigError extends Error {}

function describe(issues: z.core.$ZodIssue[], source: Record<string, unknown>): string {
  return issues
    .map((issue) => {
      const name = issue.path.join('.');
      const got = source[name as string];
      return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    })
    .join('; ');
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`OMNIGATE_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`OMNIGATE_CONFIG: ${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`OMNIGATE_CONFIG ${path}: ${where}`);
  }
  return parsed.data;
}

/** Empty strings count as unset, as shells and compose files often export VAR= for "no value". */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

export function loadConfig(rawEnv: Record<string, string | undefined> = process.env): Config {
  const env = withoutEmpty(rawEnv);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describe(parsed.error.issues, env));
  const e = parsed.data;
  const file = e.OMNIGATE_CONFIG ? readConfigFile(e.OMNIGATE_CONFIG) : configFileSchema.parse({});
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.OMNIGATE_REDIS_PREFIX,
    // A reservation must outlive its request (total timeout) plus settlement, or a live request's would be freed.
    reservationTtlMs: Math.max(e.OMNIGATE_RESERVATION_TTL_MS ?? e.OMNIGATE_TOTAL_TIMEOUT_MS + 60_000, e.OMNIGATE_TOTAL_TIMEOUT_MS + 1_000),
    adminKey: e.OMNIGATE_ADMIN_KEY ?? `oga-${randomBytes(24).toString('base64url')}`,
    adminKeyGenerated: !e.OMNIGATE_ADMIN_KEY,
    allowPrivateUrls: e.OMNIGATE_ALLOW_PRIVATE_URLS === '1' || e.OMNIGATE_ALLOW_PRIVATE_URLS === 'true',
    logLevel: e.OMNIGATE_LOG_LEVEL,
    bodyLimitBytes: e.OMNIGATE_BODY_LIMIT_BYTES,
    timeouts: {
      connectMs: e.OMNIGATE_CONNECT_TIMEOUT_MS,
      firstByteMs: e.OMNIGATE_FIRST_BYTE_TIMEOUT_MS,
      idleMs: e.OMNIGATE_IDLE_TIMEOUT_MS,
      totalMs: e.OMNIGATE_TOTAL_TIMEOUT_MS,
      drainMs: e.OMNIGATE_DRAIN_TIMEOUT_MS,
    },
    maxRetries: e.OMNIGATE_MAX_RETRIES,
    breaker: { failureThreshold: e.OMNIGATE_BREAKER_FAILURES, cooldownMs: e.OMNIGATE_BREAKER_COOLDOWN_MS },
    maxMessages: e.OMNIGATE_MAX_MESSAGES,
    streamKeepAliveMs: e.OMNIGATE_STREAM_KEEPALIVE_MS,
    file,
    env,
  };
}
