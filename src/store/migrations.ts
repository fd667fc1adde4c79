// Schema migrations, run at start on SQLite and PostgreSQL alike. Append new ones; never edit old ones.

import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

function buildMigrations(dialect: SqlDialect): Record<string, Migration> {
  // Auto-increment ids are spelled differently by the two databases.
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const autoId = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
  '0001_keys_ledger_usage': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('balance_nano', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('reserved_nano', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('spent_nano', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('rpm_limit', 'integer')
        .addColumn('tpm_limit', 'integer')
        .addColumn('models', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('balance_not_negative', sql`balance_nano >= 0`)
        .execute();
      await db.schema
        .createTable('ledger')
        .addColumn('id', serial, autoId)
        .addColumn('key_id', 'text', (c) => c.notNull().references('api_keys.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('amount_nano', 'bigint', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ledger_key').on('ledger').column('key_id').execute();
      await db.schema
        .createTable('reservations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('amount_nano', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reservations_expiry').on('reservations').column('expires_at').execute();
      await db.schema
        .createTable('usage')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text')
        .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
        .addColumn('completion_tokens', 'integer', (c) => c.notNull())
        .addColumn('cached_tokens', 'integer', (c) => c.notNull())
        .addColumn('cache_write_tokens', 'integer', (c) => c.notNull())
        .addColumn('reasoning_tokens', 'integer', (c) => c.notNull())
        .addColumn('cost_nano', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('http_status', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('estimated', 'integer', (c) => c.notNull())
        .addColumn('stream', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('ttft_ms', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('usage_key_time').on('usage').columns(['key_id', 'created_at']).execute();
    },
  },
  '0002_conversations': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('preset', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('conversations_key').on('conversations').columns(['key_id', 'updated_at']).execute();
      await db.schema
        .createTable('conversation_turns')
        .addColumn('id', serial, autoId)
        .addColumn('conversation_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('question', 'text', (c) => c.notNull())
        .addColumn('answer', 'text', (c) => c.notNull())
        .addColumn('usage', 'text')
        .addColumn('incomplete', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('conversation_turn_seq', ['conversation_id', 'seq'])
        .execute();
    },
  },
  '0003_conversation_turn_details': {
    // The question as typed and its references (for reading a conversation back), the turn's token
    // count (for trimming without re-tokenizing history), the usage record's id, and the claim a
    // running turn holds on its seq (pending_until: a lease, so a crashed instance cannot block it forever).
    // SQLite adds one column per statement.
    async up(db: Kysely<any>) {
      for (const [name, type] of [['question_text', 'text'], ['refs', 'text'], ['tokens', 'integer'], ['request_id', 'text'], ['pending_until', 'bigint']] as const) {
        await db.schema.alterTable('conversation_turns').addColumn(name, type).execute();
      }
    },
  },
  '0004_usage_time_and_ledger_request': {
    // GET /admin/usage?since=&until= without a key, and tracing a charge back to its request.
    async up(db: Kysely<any>) {
      await db.schema.createIndex('usage_time').on('usage').column('created_at').execute();
      await db.schema.createIndex('ledger_request').on('ledger').column('request_id').execute();
    },
  },
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => buildMigrations(dialect) };
}
