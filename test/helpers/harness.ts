// An Omnigate gateway and a provider simulator, both on 127.0.0.1, for end-to-end tests through the
// official OpenAI SDK. Each harness has its own temporary SQLite file (or the given DATABASE_URL).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startGateway, type RunningGateway } from '../../src/server/start.js';
import { conversationRoutes } from '../../src/conversations/routes.js';
import { Simulator } from '../simulators/server.js';

export interface Harness {
  sim: Simulator;
  gateway: RunningGateway;
  /** Gateway base URL without /v1. */
  url: string;
  adminKey: string;
  /** An OpenAI SDK client with a fresh key holding `credit` USD (default 100). */
  client: OpenAI;
  apiKey: string;
  keyId: string;
  createKey(body?: Record<string, unknown>): Promise<{ id: string; key: string; client: OpenAI }>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  credit?: number;
  /** Reuse a simulator (e.g. several gateways in front of one upstream). */
  sim?: Simulator;
}

/** A response body as JSON when it is JSON; CSV, SSE and NDJSON bodies stay text. */
export async function readBody(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const ADMIN_KEY = 'test-admin-key-0123456789';

export function clientFor(url: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ownSim = !options.sim;
  const sim = options.sim ?? (await new Simulator().start());
  const dir = mkdtempSync(join(tmpdir(), 'omnigate-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(dir, 'omnigate.db')}`,
    OMNIGATE_ADMIN_KEY: ADMIN_KEY,
    OMNIGATE_ALLOW_PRIVATE_URLS: '1',
    OMNIGATE_LOG_LEVEL: 'silent',
    ...sim.env(),
    ...options.env,
  });
  const logger = pino({ level: process.env.OMNIGATE_TEST_LOG ?? 'silent' });
  const gateway = await startGateway(config, { logger, modules: [conversationRoutes] });
  const url = gateway.url;

  async function admin(method: string, path: string, body?: unknown) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await readBody(res) };
  }

  async function createKey(body: Record<string, unknown> = {}) {
    const res = await admin('POST', '/admin/keys', { name: 'test', credit_usd: options.credit ?? 100, ...body });
    if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, key: res.body.key as string, client: clientFor(url, res.body.key) };
  }

  const first = await createKey();
  return {
    sim,
    gateway,
    url,
    adminKey: ADMIN_KEY,
    client: first.client,
    apiKey: first.key,
    keyId: first.id,
    createKey,
    admin,
    async close() {
      await gateway.stop();
      if (ownSim) await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Usage records settle just after the response; wait until `count` exist for the key. */
export async function waitForUsage(h: Harness, keyId: string, count: number, timeoutMs = 5_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await h.admin('GET', `/admin/usage?key_id=${keyId}`);
    if (res.body.data?.length >= count || Date.now() > deadline) return res.body.data ?? [];
    await new Promise((r) => setTimeout(r, 20));
  }
}
