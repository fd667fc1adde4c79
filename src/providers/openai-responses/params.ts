// Chat Completions request fields → Responses request fields, as a table: adding a parameter is adding
// a row. Messages, tools and streaming are converted elsewhere (convert-messages.ts, convert-tools.ts).

import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, ResponseFormat } from '../types.js';

export type DropReporter = (what: string, detail?: unknown) => void;

interface ParamRow {
  /** The Chat Completions field. */
  from: string;
  /** Dotted path in the Responses body; null: the Responses API has no equivalent and the field is dropped. */
  to: string | null;
  /** Returns undefined to leave the field out. */
  transform?: (value: unknown, req: ChatRequest, model: ModelEntry) => unknown;
}

/** The Responses API rejects max_output_tokens below 16 ("integer below minimum value"). */
export const MIN_OUTPUT_TOKENS = 16;

function outputCap(value: unknown, model: ModelEntry): number | undefined {
  if (typeof value !== 'number') return undefined;
  return Math.min(Math.max(MIN_OUTPUT_TOKENS, Math.floor(value)), model.maxOutput);
}

const EFFORT_ORDER = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

/** A value the model does not accept becomes the nearest one it does (ties go to more effort). */
export function nearestEffort(value: string, accepted: string[] | undefined): string {
  if (!accepted?.length || accepted.includes(value)) return value;
  const rank = EFFORT_ORDER.indexOf(value);
  if (rank < 0) return value;
  let best = accepted[0]!;
  let bestDistance = Infinity;
  for (const candidate of accepted) {
    const distance = Math.abs(EFFORT_ORDER.indexOf(candidate) - rank);
    if (distance < bestDistance || (distance === bestDistance && EFFORT_ORDER.indexOf(candidate) > EFFORT_ORDER.indexOf(best))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Chat nests the JSON schema under `json_schema`; Responses flattens it into `text.format`. */
export function toTextFormat(format: ResponseFormat): Record<string, unknown> {
  if (format.type !== 'json_schema') return { type: format.type };
  const { name, description, schema, strict } = format.json_schema;
  return { type: 'json_schema', name, description, schema, strict };
}

const PARAMS: ParamRow[] = [
  // max_completion_tokens wins over the legacy max_tokens when a client sends both.
  { from: 'max_completion_tokens', to: 'max_output_tokens', transform: (v, _r, m) => outputCap(v, m) },
  {
    from: 'max_tokens',
    to: 'max_output_tokens',
    transform: (v, req, m) => (req.max_completion_tokens === undefined ? outputCap(v, m) : undefined),
  },
  { from: 'temperature', to: 'temperature' },
  { from: 'top_p', to: 'top_p' },
  {
    from: 'reasoning_effort',
    to: 'reasoning.effort',
    transform: (v, _r, m) => (typeof v === 'string' ? nearestEffort(v, m.quirks?.reasoningEfforts) : undefined),
  },
  // OpenRouter-style `reasoning: {effort?, summary?}`. Summaries are opt-in: OpenAI answers 400 to
  // organisations that are not verified when one is requested, so the gateway never asks by default.
  {
    from: 'reasoning',
    to: 'reasoning.summary',
    transform: (v) => (v && typeof v === 'object' ? (v as { summary?: unknown }).summary : undefined),
  },
  { from: 'response_format', to: 'text.format', transform: (v) => toTextFormat(v as ResponseFormat) },
  { from: 'verbosity', to: 'text.verbosity' },
  // `user` is deprecated on the Responses API in favour of safety_identifier (same purpose: abuse tracing).
  { from: 'user', to: 'safety_identifier' },
  { from: 'safety_identifier', to: 'safety_identifier' },
  { from: 'prompt_cache_key', to: 'prompt_cache_key' },
  { from: 'parallel_tool_calls', to: 'parallel_tool_calls' },
  { from: 'store', to: 'store' },
  { from: 'metadata', to: 'metadata' },
  { from: 'service_tier', to: 'service_tier' },
  { from: 'n', to: null, transform: (v) => (v === 1 ? undefined : v) },
  { from: 'stop', to: null },
  { from: 'seed', to: null },
  { from: 'presence_penalty', to: null },
  { from: 'frequency_penalty', to: null },
  { from: 'logit_bias', to: null },
  { from: 'logprobs', to: null },
  { from: 'top_logprobs', to: null },
  { from: 'top_k', to: null },
  { from: 'modalities', to: null },
  { from: 'audio', to: null },
  { from: 'prediction', to: null },
  { from: 'web_search_options', to: null },
];

/** Fields converted by other files, or that only shape the HTTP exchange. */
const HANDLED_ELSEWHERE = new Set(['model', 'messages', 'tools', 'tool_choice', 'stream', 'stream_options']);

function setPath(body: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = body;
  for (const key of keys.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** The scalar part of the Responses body: every field except model, input, instructions, tools, stream. */
export function convertParams(req: ChatRequest, model: ModelEntry, onDrop: DropReporter): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const dropByCatalog = new Set(model.quirks?.dropParams ?? []);
  const rows = new Map(PARAMS.map((row) => [row.from, row]));
  for (const [field, value] of Object.entries(req)) {
    if (value === undefined || HANDLED_ELSEWHERE.has(field)) continue;
    if (dropByCatalog.has(field)) {
      onDrop(`param ${field}`, { reason: `${model.id} rejects it`, value });
      continue;
    }
    const row = rows.get(field);
    const mapped = row?.transform ? row.transform(value, req, model) : value;
    if (mapped === undefined) continue;
    if (!row || row.to === null) {
      onDrop(`param ${field}`, { reason: 'no Responses API equivalent', value: mapped });
      continue;
    }
    setPath(body, row.to, mapped);
  }
  // The Responses API keeps every response for 30 days unless told otherwise; a gateway that resends
  // the whole history each turn has no use for that, and callers may not expect their data retained.
  if (body.store === undefined) body.store = false;
  return body;
}
