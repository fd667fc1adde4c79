// Request ids, which are also the primary key of usage records and the request_id of ledger rows.

import { randomUUID } from 'node:crypto';

/** The id prefix of the millisecond `prefixOf`. */
let prefixOf = -1;
let prefix = '';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids that grow with time
 * are appended at the end of the usage and ledger indexes; random (v4) ones landed on a different
 * B-tree page each, and writing those pages made a settled request cost four times as much in SQLite.
 * The random part comes from a v4 UUID (Node draws those from a buffered pool, so it costs no syscall).
 */
export function newRequestId(now = Date.now()): string {
  // Formatting the time in hex costs more than the random part; under load many ids share a millisecond.
  if (now !== prefixOf) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixOf = now;
  }
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, whose variant V is already RFC 9562's.
  return prefix + randomUUID().slice(15);
}
