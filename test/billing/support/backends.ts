// The two storage setups every billing test runs on: the default SQLite file, and PostgreSQL + Redis.
// Each PostgreSQL backend is a fresh database (dropped afterwards) and each Redis one a fresh key prefix
// (deleted afterwards), so test files and people running tests at the same time never see each
// other's rows or counters. Without reachable services (a laptop with no PostgreSQL) the PostgreSQL
// runs are skipped with a reason; CI starts both services (.ci/run).

import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';

export type BackendKind = 'sqlite' | 'postgres+redis';

export const PG_URL = process.env.OMNIGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.OMNIGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Backend {
  kind: BackendKind;
  /** Environment for the gateway: empty for SQLite (the harness gives each gateway its own file). */
  env: Record<string, string>;
  close(): Promise<void>;
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let services: Promise<boolean> | undefined;
/** Whether PostgreSQL and Redis answer; decided once per test file. */
export function servicesUp(): Promise<boolean> {
  return (services ??= Promise.all([reachable(PG_URL), reachable(REDIS_URL)]).then(([a, b]) => a && b));
}

/** The backends to run on, and why one is skipped: `describe(name, { skip }, …)`. */
export async function backendKinds(): Promise<Array<{ kind: BackendKind; skip: string | false }>> {
  const up = await servicesUp();
  return [
    { kind: 'sqlite', skip: false },
    { kind: 'postgres+redis', skip: up ? false : `PostgreSQL or Redis not reachable at ${PG_URL} / ${REDIS_URL}` },
  ];
}

export async function openBackend(kind: BackendKind): Promise<Backend> {
  if (kind === 'sqlite') return { kind, env: {}, close: async () => {} };
  const suffix = randomBytes(6).toString('hex');
  const database = `og_test_${suffix}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const prefix = `og-test:${suffix}:`;
  return {
    kind,
    env: { DATABASE_URL: url.toString(), REDIS_URL, OMNIGATE_REDIS_PREFIX: prefix },
    async close() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      // A closed pool has sent its connections their goodbye, but they may not be gone yet; a forced
      // drop would then kill them under the test's feet. Give them a moment first.
      for (let i = 0; i < 100; i++) {
        const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = $1', [database]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await client.query(`drop database if exists ${database} with (force)`);
      await client.end();
      const redis = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}
