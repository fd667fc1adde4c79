// Table types for the query builder. Money columns are integer nano-USD; times are epoch milliseconds.

import type { Generated } from 'kysely';

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  /** First characters of the secret, so an operator can tell keys apart without seeing them. */
  key_prefix: string;
  balance_nano: number;
  reserved_nano: Generated<number>;
  spent_nano: Generated<number>;
  rpm_limit: number | null;
  tpm_limit: number | null;
  /** JSON array of allowed model ids, or null for all. */
  models: string | null;
  disabled: Generated<number>;
  created_at: number;
}

export interface LedgerTable {
  id: Generated<number>;
  key_id: string;
  kind: 'credit' | 'charge';
  /** Positive for credits, negative for charges: a key's balance is the sum of its rows. */
  amount_nano: number;
  request_id: string | null;
  note: string | null;
  created_at: number;
}

export interface ReservationsTable {
  id: string;
  key_id: string;
  amount_nano: number;
  expires_at: number;
  created_at: number;
}

export interface UsageTable {
  id: string;
  key_id: string;
  model: string;
  provider: string;
  deployment: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_nano: number;
  /** ok | error | aborted | timeout */
  status: string;
  http_status: number;
  error_code: string | null;
  /** 1 when tokens were counted by the gateway's tokenizer because the upstream sent no usage. */
  estimated: number;
  stream: number;
  latency_ms: number;
  ttft_ms: number | null;
  created_at: number;
}

export interface ConversationsTable {
  id: string;
  key_id: string;
  model: string;
  preset: string | null;
  created_at: number;
  updated_at: number;
}

export interface ConversationTurnsTable {
  id: Generated<number>;
  conversation_id: string;
  seq: number;
  model: string;
  /** JSON: the user message content (text or parts) as sent upstream. */
  question: string;
  answer: string;
  /** JSON usage object. */
  usage: string | null;
  incomplete: number;
  created_at: number;
}

export interface Database {
  api_keys: ApiKeysTable;
  ledger: LedgerTable;
  reservations: ReservationsTable;
  usage: UsageTable;
  conversations: ConversationsTable;
  conversation_turns: ConversationTurnsTable;
}
