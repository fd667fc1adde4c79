// API keys: the secret is shown once at creation and stored only as a SHA-256 hash (secrets are 256-bit
// random, so a fast hash is enough; a slow KDF would only add latency to every request).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from './database.js';
import type { ApiKeysTable } from './schema.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export interface NewKey {
  name: string;
  creditNano: number;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  models?: string[] | null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(): string {
  return `sk-og-${randomBytes(32).toString('base64url')}`;
}

export async function createKey(store: Store, input: NewKey): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = newSecret();
  const now = Date.now();
  const id = `key_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const row = {
    id,
    name: input.name,
    key_hash: hashSecret(secret),
    key_prefix: secret.slice(0, 10),
    balance_nano: input.creditNano,
    rpm_limit: input.rpmLimit ?? null,
    tpm_limit: input.tpmLimit ?? null,
    models: input.models ? JSON.stringify(input.models) : null,
    created_at: now,
  };
  await store.db.transaction().execute(async (tx) => {
    await tx.insertInto('api_keys').values(row).execute();
    if (input.creditNano > 0) {
      await tx
        .insertInto('ledger')
        .values({ key_id: id, kind: 'credit', amount_nano: input.creditNano, request_id: null, note: 'initial credit', created_at: now })
        .execute();
    }
  });
  return { row: (await getKey(store, id))!, secret };
}

export async function findKeyBySecret(store: Store, secret: string): Promise<ApiKeyRow | undefined> {
  return store.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hashSecret(secret)).executeTakeFirst();
}

/** On SQLite a key's open reservations are held in this process, not in its row (billing/local-credit.ts). */
function withOpenReservations(store: Store, row: ApiKeyRow): ApiKeyRow {
  if (store.local) row.reserved_nano += store.local.reservedOf(row.id);
  return row;
}

export async function getKey(store: Store, id: string): Promise<ApiKeyRow | undefined> {
  const row = await store.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && withOpenReservations(store, row);
}

export async function listKeys(store: Store): Promise<ApiKeyRow[]> {
  const rows = await store.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'asc').execute();
  return rows.map((row) => withOpenReservations(store, row));
}

export interface KeyPatch {
  name?: string;
  disabled?: boolean;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  models?: string[] | null;
}

export async function updateKey(store: Store, id: string, patch: KeyPatch): Promise<ApiKeyRow | undefined> {
  const values: Partial<Record<keyof ApiKeysTable, unknown>> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.disabled !== undefined) values.disabled = patch.disabled ? 1 : 0;
  if (patch.rpmLimit !== undefined) values.rpm_limit = patch.rpmLimit;
  if (patch.tpmLimit !== undefined) values.tpm_limit = patch.tpmLimit;
  if (patch.models !== undefined) values.models = patch.models ? JSON.stringify(patch.models) : null;
  if (Object.keys(values).length) await store.db.updateTable('api_keys').set(values as any).where('id', '=', id).execute();
  return getKey(store, id);
}

export function allowedModels(row: ApiKeyRow): string[] | null {
  return row.models ? (JSON.parse(row.models) as string[]) : null;
}
