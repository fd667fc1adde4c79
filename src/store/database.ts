// One query layer (Kysely) over the embedded SQLite file or PostgreSQL, chosen by DATABASE_URL.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { LockWaitingSqliteDialect } from './sqlite-lock-wait.js';
import type { Database } from './schema.js';
import { migrationProvider, type SqlDialect } from './migrations.js';
import { LocalCredit } from '../billing/local-credit.js';
import { startSettlementWorker, type SettlementWorker, type SettlementWorkerOptions } from '../billing/settlement-worker.js';
import { keepBounded } from '../bounded-cache.js';

// BIGINT (int8) columns hold nano-USD and epoch ms: well inside Number's exact range.
pg.types.setTypeParser(20, (value: string) => Number(value));

export interface Store {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** SQLite: the open credit reservations of this process, which owns the file (billing/local-credit.ts). */
  local?: LocalCredit;
  /** SQLite, the gateway: the thread that writes settlements and checkpoints the WAL (billing/settlement-worker.ts). */
  writer?: SettlementWorker;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** SQLite file: write settlements and checkpoint the WAL on a thread of their own (the gateway; not the CLI). */
  writerThread?: boolean | SettlementWorkerOptions;
  /** Told when that thread failed and this connection does its work again. */
  onWriterFailure?: (err: Error) => void;
}

export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.replace(/^file:(\/\/)?/, '');
  return path === ':memory:' ? path : resolve(path);
}

/**
 * Kysely prepares every statement anew, and SQLite parsing the same few statements on every request was
 * a tenth of the gateway's CPU per request in profiles. Statements are kept by their SQL text (bounded:
 * batched inserts vary in size); one still busy (being iterated) is never handed out twice.
 */
function withStatementCache(file: SQLite.Database): SQLite.Database {
  const statements = new Map<string, SQLite.Statement>();
  return new Proxy(file, {
    get(target, property) {
      if (property !== 'prepare') {
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (text: string) => {
        const cached = statements.get(text);
        if (cached && !cached.busy) return cached;
        return keepBounded(statements, text, target.prepare(text), 1_000);
      };
    },
  });
}

export async function openStore(databaseUrl: string, options: StoreOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: SqlDialect;
  let sqliteFile: { file: SQLite.Database; path: string } | undefined;
  if (databaseUrl.startsWith('file:')) {
    const path = sqlitePath(databaseUrl);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const file = new SQLite(path);
    // WAL lets readers run beside the single writer. A write that meets another connection's lock fails
    // at once and is tried again on a timer (sqlite-lock-wait.ts), never waiting inside SQLite.
    file.pragma('journal_mode = WAL');
    file.pragma('synchronous = NORMAL');
    file.pragma('busy_timeout = 0');
    file.pragma('foreign_keys = ON');
    if (path !== ':memory:') sqliteFile = { file, path };
    db = new Kysely<Database>({ dialect: new LockWaitingSqliteDialect({ database: withStatementCache(file) }) });
    dialect = 'sqlite';
  } else {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    // An idle connection the server drops (restart, failover, admin kill) is removed from the pool and
    // reported here; without a listener that report would crash the process. The next query reconnects.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
  }
  await migrate(db, dialect);
  const local = dialect === 'sqlite' ? new LocalCredit() : undefined;
  const writer = options.writerThread && sqliteFile && local
    ? startSettlementWorker(sqliteFile.file, sqliteFile.path, local, options.onWriterFailure ?? (() => {}), options.writerThread === true ? {} : options.writerThread)
    : undefined;
  return {
    db,
    dialect,
    ...(local ? { local } : {}),
    writer,
    close: async () => {
      // The thread's connection first: closing the last connection lets SQLite fold the WAL back in.
      await writer?.stop();
      await db.destroy();
    },
  };
}

async function migrate(db: Kysely<Database>, dialect: SqlDialect): Promise<void> {
  if (dialect === 'postgres') {
    // Several instances may start at once; one migrates while the others wait on this lock.
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(774411)`.execute(conn);
      try {
        await runMigrations(conn as Kysely<Database>, dialect);
      } finally {
        await sql`select pg_advisory_unlock(774411)`.execute(conn);
      }
    });
    return;
  }
  await runMigrations(db, dialect);
}

async function runMigrations(db: Kysely<Database>, dialect: SqlDialect): Promise<void> {
  // Pin the migration tables to the connection's own schema: otherwise Kysely may see another schema's
  // kysely_migration table (visible in the catalog) and never create this schema's own.
  const schema =
    dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? 'unknown error'}`);
  }
}

/** Cheap liveness check for /readyz. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
