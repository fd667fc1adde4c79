// Request ids, which are also the primary key of usage records and the request_id of ledger rows.

import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids that grow with time
 * are appended at the end of the usage and ledger indexes; random (v4) ones landed on a different
 * B-tree page each, and writing those pages made a settled request cost four times as much in SQLite.
 * The random part comes from a v4 UUID (Node draws those from a buffered pool, so it costs no syscall).
 */
export function newRequestId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, whose variant V is already RFC 9562's.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
