// Reading a key's money straight from the store, exactly (nano-USD), the reservation a request gets, and
// a usage record to settle directly.

import { randomUUID } from 'node:crypto';
import { estimatePromptTokens } from '../../../src/billing/estimate-tokens.js';
import { getKey } from '../../../src/store/api-keys.js';
import type { Store } from '../../../src/store/database.js';
import type { ChatMessage } from '../../../src/providers/types.js';
import { readBody, type Harness } from '../../helpers/harness.js';

export interface Money {
  balance: number;
  reserved: number;
  spent: number;
}

export async function money(store: Store, keyId: string): Promise<Money> {
  const row = await getKey(store, keyId);
  if (!row) throw new Error(`no key ${keyId}`);
  return { balance: row.balance_nano, reserved: row.reserved_nano, spent: row.spent_nano };
}

export const storeOf = (h: Harness): Store => h.gateway.gw.store;

/** Prompt tokens the gateway reserves for (its tokenizer count × 1.3), as prepare.ts computes them. */
export function reservedPromptTokens(messages: ChatMessage[]): number {
  return Math.ceil(estimatePromptTokens(messages) * 1.3);
}

/** Waits until every settlement of the gateway is written. */
export async function settled(h: Harness): Promise<void> {
  const gw = h.gateway.gw;
  for (let i = 0; i < 500 && (gw.pending.size || gw.billing.settlements.backlog); i++) {
    await Promise.allSettled([...gw.pending]);
    await new Promise((r) => setImmediate(r));
  }
}

export async function postChat(h: Harness, apiKey: string, body: Record<string, unknown>): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await readBody(res) };
}

/** A usage record as the gateway submits it, for settling directly. */
export function usageRecord(keyId: string, costNano: number, id: string = randomUUID()) {
  return {
    id, key_id: keyId, model: 'gpt-4.1', provider: 'openai', deployment: null, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0,
    cache_write_tokens: 0, reasoning_tokens: 0, cost_nano: costNano, status: 'ok', http_status: 200, error_code: null, estimated: 0,
    stream: 0, latency_ms: 1, ttft_ms: null,
  };
}
