// Usage records, as the admin API and CLI show them: one per request, USD at the edge.

import type { Selectable } from 'kysely';
import type { Store } from './database.js';
import type { UsageTable } from './schema.js';
import { nanoToUsd } from '../billing/prices.js';

export interface UsageQuery {
  keyId?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/** A usage row as shown at the edge: USD beside nano-USD, flags as booleans, an ISO timestamp. */
export type UsageView = Omit<Selectable<UsageTable>, 'estimated' | 'stream' | 'created_at'> & {
  cost_usd: number;
  estimated: boolean;
  stream: boolean;
  created_at: string;
};

export async function listUsage(store: Store, q: UsageQuery): Promise<UsageView[]> {
  let query = store.db.selectFrom('usage').selectAll();
  if (q.keyId) query = query.where('key_id', '=', q.keyId);
  if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
  if (q.until !== undefined) query = query.where('created_at', '<', q.until);
  const rows = await query.orderBy('created_at', 'asc').orderBy('id').limit(q.limit ?? 1000).execute();
  return rows.map((r) => ({
    ...r,
    cost_usd: nanoToUsd(r.cost_nano),
    estimated: Boolean(r.estimated),
    stream: Boolean(r.stream),
    created_at: new Date(r.created_at).toISOString(),
  }));
}

const CSV_COLUMNS: Array<keyof UsageView> = [
  'id', 'created_at', 'key_id', 'model', 'provider', 'deployment', 'prompt_tokens', 'completion_tokens', 'cached_tokens',
  'cache_write_tokens', 'reasoning_tokens', 'cost_usd', 'status', 'http_status', 'error_code', 'estimated', 'stream', 'latency_ms', 'ttft_ms',
];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function usageToCsv(records: UsageView[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of records) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}
