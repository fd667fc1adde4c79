// Kysely's SQLite dialect, changed so that waiting for SQLite's write lock never stops the event loop.
// The gateway's settlements are written by another connection on a thread of their own
// (billing/settlement-thread.ts), and the CLI writes from its own process. When one of them holds the
// write lock, SQLite's busy handler would sleep inside the statement, on this thread, 1 ms and then
// longer, with every request in flight waiting. Instead this connection gives up at once (busy_timeout
// = 0) and the statement is tried again after a timer, for up to the same 5 s.
//
// That is safe to repeat only where nothing has happened yet: a statement outside a transaction (SQLite
// ran none of it), and the start of a transaction. So transactions start with BEGIN IMMEDIATE, which
// takes the write lock up front: nothing inside one can then meet the lock. (It also means a transaction
// never reads a snapshot that another writer makes stale before its first write.)

import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** How long a statement may wait for the write lock in all, as busy_timeout did. */
const WAIT_FOR_LOCK_MS = 5_000;
/** Pauses between tries: short first (a settlement batch holds the lock for 1-2 ms). */
const PAUSES_MS = [1, 1, 2, 2, 5, 5, 10, 10, 25];

const isBusy = (err: unknown) => typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

/** Runs `attempt` until it does not fail for the lock, pausing on a timer between tries. */
async function whenUnlocked<T>(attempt: () => Promise<T>): Promise<T> {
  let giveUpAt: number | undefined;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      giveUpAt ??= Date.now() + WAIT_FOR_LOCK_MS;
      if (!isBusy(err) || Date.now() >= giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, PAUSES_MS[Math.min(tries, PAUSES_MS.length - 1)]));
    }
  }
}

export class LockWaitingSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    // Kysely gives SQLite one connection, one user at a time: whether it is in a transaction is one flag.
    let inTransaction = false;
    // ...and that one connection is wrapped once, not on every query.
    let wrapped: { connection: DatabaseConnection; waiting: DatabaseConnection } | undefined;
    const waiting = (connection: DatabaseConnection): DatabaseConnection => {
      if (wrapped?.connection !== connection) {
        wrapped = {
          connection,
          waiting: {
            executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> =>
              inTransaction ? connection.executeQuery<R>(query) : whenUnlocked(() => connection.executeQuery<R>(query)),
            streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
          },
        };
      }
      return wrapped.waiting;
    };
    return {
      init: () => driver.init(),
      acquireConnection: async () => waiting(await driver.acquireConnection()),
      beginTransaction: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw('begin immediate')); // tried again while locked, as above
        inTransaction = true;
      },
      commitTransaction: async (connection) => {
        await connection.executeQuery(CompiledQuery.raw('commit'));
        inTransaction = false;
      },
      rollbackTransaction: async (connection) => {
        inTransaction = false;
        await connection.executeQuery(CompiledQuery.raw('rollback'));
      },
      releaseConnection: (connection) => driver.releaseConnection(connection),
      destroy: () => driver.destroy(),
    };
  }
}
