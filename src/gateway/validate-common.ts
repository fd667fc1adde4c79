// The common chat request, checked by hand: text messages and scalar parameters. The schema in
// validate-request.ts walks some 25 field definitions and copies every object it checks; at low load,
// with caches cold between requests, that was a third of the gateway's work before the upstream call.
//
// This path may only say yes to what the schema would accept, and must then return what the schema
// would (unknown fields passed through, explicit nulls dropped). Anything else — another field the
// schema knows, a message with parts, tool calls, any doubt — returns undefined and goes to the schema,
// which stays the one source of error messages. validate-common.test.ts holds the two paths together.

import type { ChatRequest } from '../providers/types.js';

const isNumberIn = (v: unknown, min: number, max: number) => typeof v === 'number' && v >= min && v <= max;
const isIntIn = (v: unknown, min: number, max: number) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** The scalar fields checked here, each by the schema's rule; null means "not set" for those that allow it. */
const SCALAR_RULES: Record<string, (v: unknown) => boolean> = {
  temperature: (v) => v === null || isNumberIn(v, 0, 2),
  top_p: (v) => v === null || isNumberIn(v, 0, 1),
  n: (v) => v === null || isIntIn(v, 1, 128),
  max_tokens: (v) => v === null || isIntIn(v, 1, Number.MAX_SAFE_INTEGER),
  max_completion_tokens: (v) => v === null || isIntIn(v, 1, Number.MAX_SAFE_INTEGER),
  stream: (v) => v === null || typeof v === 'boolean',
  seed: (v) => v === null || isIntIn(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  user: (v) => typeof v === 'string',
  presence_penalty: (v) => v === null || isNumberIn(v, -2, 2),
  frequency_penalty: (v) => v === null || isNumberIn(v, -2, 2),
  logprobs: (v) => v === null || typeof v === 'boolean',
  parallel_tool_calls: (v) => typeof v === 'boolean',
};
/** A Map, not the object: a body's "constructor" or "toString" must not find Object.prototype's. */
const SCALARS = new Map(Object.entries(SCALAR_RULES));

const TEXT_ROLES = new Set(['system', 'developer', 'user', 'assistant']);

/** A message of a text role with string content and nothing else but an optional name. */
function isPlainTextMessage(m: unknown): boolean {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
  for (const key in m) if (key !== 'role' && key !== 'content' && key !== 'name') return false;
  const { role, content, name } = m as Record<string, unknown>;
  return typeof role === 'string' && TEXT_ROLES.has(role) && typeof content === 'string' && (name === undefined || typeof name === 'string');
}

/**
 * The request, when it has the common shape and is valid; undefined otherwise (then the schema decides).
 * `schemaFields` are the top-level fields the schema knows: those not checked here send the body to it.
 */
export function commonChatRequest(body: Record<string, unknown>, schemaFields: ReadonlySet<string>): ChatRequest | undefined {
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const out: Record<string, unknown> = {};
  for (const key in body) {
    const value = body[key];
    const scalar = SCALARS.get(key);
    if (key === 'model') {
      if (typeof value !== 'string' || value.length === 0) return undefined;
    } else if (key === 'messages') {
      if (!Array.isArray(value) || value.length === 0) return undefined;
      for (const m of value) if (!isPlainTextMessage(m)) return undefined;
    } else if (scalar) {
      if (!scalar(value)) return undefined;
    } else if (schemaFields.has(key) || key === '__proto__') {
      return undefined;
    }
    if (value !== null) out[key] = value;
  }
  return 'model' in out && 'messages' in out ? (out as unknown as ChatRequest) : undefined;
}
