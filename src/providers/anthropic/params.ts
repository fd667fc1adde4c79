// OpenAI request fields → Anthropic Messages fields, as data: one row per field. Adding a parameter is
// adding a row. The request was validated before it got here (ranges are OpenAI's); rows rename, clamp
// to what Anthropic accepts and reshape. Rules that tie fields together (thinking vs sampling, sampling
// on newer model families) come after the table, each with the upstream error it avoids.

import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, ReasoningEffort, ResponseFormat } from '../types.js';
import type { MessagesRequest, ThinkingParam } from './wire-types.js';

export interface ParamContext {
  model: ModelEntry;
  upstreamModel: string;
  onDrop(what: string, detail?: unknown): void;
}

/** The fields the table fills; the rest of the body comes from the message and tool converters. */
export type SamplingParams = Pick<MessagesRequest, 'max_tokens' | 'temperature' | 'top_p' | 'top_k' | 'stop_sequences' | 'metadata'>;

interface ParamRule {
  from: string;
  /** Target field, for rows that only rename (and clamp). */
  to?: keyof SamplingParams;
  /** Inclusive bounds Anthropic accepts; values outside are clamped and reported. */
  range?: [number, number];
  /** Rows that reshape: the fields to set, or undefined to send nothing. */
  transform?: (value: any, ctx: ParamContext) => Partial<SamplingParams> | undefined;
  /** Rows with no Anthropic equivalent: dropped and reported with this reason (when `when` holds). */
  drop?: string;
  when?: (value: any) => boolean;
}

/** Anthropic rejects whitespace-only stop sequences ("each stop sequence must contain non-whitespace"). */
function stopSequences(value: string | string[], ctx: ParamContext): Partial<SamplingParams> | undefined {
  const all = Array.isArray(value) ? value : [value];
  const kept = all.filter((s) => typeof s === 'string' && s.trim() !== '');
  if (kept.length < all.length) ctx.onDrop('stop', { dropped: all.filter((s) => !kept.includes(s)), reason: 'Anthropic rejects empty or whitespace-only stop sequences' });
  return kept.length > 0 ? { stop_sequences: kept } : undefined;
}

/** metadata.user_id is an opaque id of at most 256 characters. */
function userMetadata(value: string, ctx: ParamContext): Partial<SamplingParams> | undefined {
  if (value === '') return undefined;
  if (value.length > 256) {
    ctx.onDrop('user', { reason: 'Anthropic metadata.user_id is limited to 256 characters' });
    return undefined;
  }
  return { metadata: { user_id: value } };
}

export const PARAM_RULES: ParamRule[] = [
  // OpenAI allows 0–2; Anthropic 0–1. Clamped, not halved: 0.7 means the same thing on both scales.
  { from: 'temperature', to: 'temperature', range: [0, 1] },
  { from: 'top_p', to: 'top_p', range: [0, 1] },
  { from: 'top_k', to: 'top_k' },
  { from: 'stop', transform: stopSequences },
  { from: 'user', transform: userMetadata },
  { from: 'n', drop: 'Anthropic returns exactly one choice', when: (n: number) => n > 1 },
  { from: 'seed', drop: 'Anthropic has no seed' },
  { from: 'logprobs', drop: 'Anthropic returns no log probabilities', when: (v: boolean) => v === true },
  { from: 'top_logprobs', drop: 'Anthropic returns no log probabilities' },
  { from: 'logit_bias', drop: 'Anthropic has no logit bias' },
  { from: 'presence_penalty', drop: 'Anthropic has no presence penalty', when: (v: number) => v !== 0 },
  { from: 'frequency_penalty', drop: 'Anthropic has no frequency penalty', when: (v: number) => v !== 0 },
];

/** Fields translated by another module of this adapter (or by the pipeline), not by the table. */
const TRANSLATED_ELSEWHERE = new Set([
  'model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens',
  'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'reasoning_effort',
]);

/**
 * Anthropic requires max_tokens. max_completion_tokens wins over the deprecated max_tokens, as at
 * OpenAI; absent, the model's whole output cap, so that an answer is never cut short by a default the
 * client did not choose (the billing reservation uses the same cap).
 */
export function maxTokensFor(req: ChatRequest, ctx: ParamContext): number {
  const asked = req.max_completion_tokens ?? req.max_tokens;
  const cap = ctx.model.maxOutput;
  if (asked === undefined) return cap;
  if (asked > cap) {
    // Anthropic answers 400 above the model's max output.
    ctx.onDrop('max_tokens', { asked, sent: cap, reason: "above the model's max output" });
    return cap;
  }
  return asked;
}

export function mapSamplingParams(req: ChatRequest, ctx: ParamContext): SamplingParams {
  const out: SamplingParams = { max_tokens: maxTokensFor(req, ctx) };
  const rejected = new Set(ctx.model.quirks?.dropParams ?? []);
  const known = new Set(PARAM_RULES.map((r) => r.from));
  for (const [field, value] of Object.entries(req)) {
    if (value === undefined || value === null) continue;
    if (rejected.has(field)) {
      ctx.onDrop(field, { reason: 'the catalog says this model rejects it' });
      continue;
    }
    if (!known.has(field) && !TRANSLATED_ELSEWHERE.has(field)) ctx.onDrop(field, { reason: 'not an Anthropic Messages parameter' });
  }
  for (const rule of PARAM_RULES) {
    const value = (req as Record<string, unknown>)[rule.from];
    if (value === undefined || value === null || rejected.has(rule.from)) continue;
    if (rule.drop !== undefined) {
      if (!rule.when || rule.when(value)) ctx.onDrop(rule.from, { reason: rule.drop });
      continue;
    }
    if (rule.transform) {
      Object.assign(out, rule.transform(value, ctx));
      continue;
    }
    let v = value as number;
    if (rule.range && (v < rule.range[0] || v > rule.range[1])) {
      const clamped = Math.min(rule.range[1], Math.max(rule.range[0], v));
      ctx.onDrop(rule.from, { asked: v, sent: clamped, reason: `Anthropic accepts ${rule.range[0]}–${rule.range[1]}` });
      v = clamped;
    }
    (out as Record<string, unknown>)[rule.to!] = v;
  }
  return out;
}

/**
 * The model generation from its upstream id: claude-opus-4-6 → 4.6, claude-sonnet-4-20250514 → 4,
 * claude-3-5-sonnet-20241022 → 3.5. Undefined for ids that follow neither naming scheme.
 */
export function claudeVersion(upstreamModel: string): number | undefined {
  const current = /claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(upstreamModel);
  const legacy = /claude-(\d+)(?:-(\d))?-(?:opus|sonnet|haiku)/.exec(upstreamModel);
  const m = current ?? legacy;
  return m ? Number(m[1]) + (m[2] ? Number(m[2]) / 10 : 0) : undefined;
}

/**
 * Sampling rules of newer model families, applied after the table:
 * - 4.7 and later reject sampling parameters outright;
 * - 4.1 and later (and ids we cannot date) reject temperature and top_p together ("`temperature` and
 *   `top_p` cannot both be specified for this model"): temperature, the more common knob, is kept.
 */
export function applyModelSamplingRules(body: SamplingParams, ctx: ParamContext): void {
  const version = claudeVersion(ctx.upstreamModel);
  if (version !== undefined && version >= 4.7) {
    for (const field of ['temperature', 'top_p', 'top_k'] as const) {
      if (body[field] !== undefined) {
        ctx.onDrop(field, { reason: 'this model family accepts no sampling parameters' });
        delete body[field];
      }
    }
    return;
  }
  if ((version === undefined || version >= 4.1) && body.temperature !== undefined && body.top_p !== undefined) {
    ctx.onDrop('top_p', { reason: 'this model rejects temperature and top_p together; temperature is kept' });
    delete body.top_p;
  }
}

/** Thinking budgets per reasoning_effort (litellm's low/medium/high; the two ends extrapolated). */
export const THINKING_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
};

/** Anthropic's minimum budget_tokens. */
export const MIN_THINKING_BUDGET = 1024;

export interface ThinkingBlockers {
  /** tool_choice any/tool: Anthropic allows only auto/none with thinking. */
  forcedTool: boolean;
  /**
   * The request continues a tool loop (the last user turn holds tool results). Anthropic then wants
   * the previous assistant turn to start with its signed thinking block, which OpenAI clients do not
   * send back, so thinking must stay off for this request ("Expected `thinking` … but found `tool_use`").
   */
  continuesToolLoop: boolean;
}

/**
 * reasoning_effort → thinking {type:"enabled", budget_tokens} with budget_tokens < max_tokens (an
 * Anthropic rule; OpenAI's max_completion_tokens likewise includes reasoning). Every catalog model with
 * the reasoning capability accepts this form, 4.6 included. Undefined: no thinking.
 */
export function thinkingFor(req: ChatRequest, maxTokens: number, blockers: ThinkingBlockers, ctx: ParamContext): ThinkingParam | undefined {
  const effort = req.reasoning_effort;
  if (effort === undefined || effort === 'none') return undefined;
  if (!ctx.model.capabilities.reasoning) {
    ctx.onDrop('reasoning_effort', { reason: 'this model does not reason' });
    return undefined;
  }
  if (blockers.forcedTool) {
    ctx.onDrop('reasoning_effort', { reason: 'Anthropic cannot think while tool_choice forces a tool' });
    return undefined;
  }
  if (blockers.continuesToolLoop) {
    ctx.onDrop('reasoning_effort', { reason: 'the earlier thinking of this tool loop is not available to replay' });
    return undefined;
  }
  const budget = Math.min(THINKING_BUDGET[effort] ?? THINKING_BUDGET.medium, maxTokens - 1);
  if (budget < MIN_THINKING_BUDGET) {
    ctx.onDrop('reasoning_effort', { reason: `max_tokens ${maxTokens} leaves no room for the minimum thinking budget of ${MIN_THINKING_BUDGET}` });
    return undefined;
  }
  return { type: 'enabled', budget_tokens: budget };
}

/** With thinking on, Anthropic rejects temperature and top_k changes and accepts top_p only in 0.95–1. */
export function applyThinkingRules(body: SamplingParams, ctx: ParamContext): void {
  if (body.temperature !== undefined) {
    if (body.temperature !== 1) ctx.onDrop('temperature', { reason: 'Anthropic fixes temperature while thinking' });
    delete body.temperature;
  }
  if (body.top_k !== undefined) {
    ctx.onDrop('top_k', { reason: 'Anthropic rejects top_k while thinking' });
    delete body.top_k;
  }
  if (body.top_p !== undefined && body.top_p < 0.95) {
    ctx.onDrop('top_p', { reason: 'Anthropic accepts top_p only in 0.95–1 while thinking' });
    delete body.top_p;
  }
}

export interface ResponseFormatPlan {
  outputConfig?: MessagesRequest['output_config'];
  /** Appended to the system prompt. */
  systemInstruction?: string;
}

/**
 * response_format. Choice: native structured output (output_config.format, constrained decoding) on
 * the models that have it (generation 4.5 and later), otherwise a system instruction. A forced `json`
 * tool would also constrain older models, but it conflicts with thinking and with the client's own
 * tools, and its answer would have to be turned back into text by a response parser that cannot know
 * the request forced it. json_object has no native Anthropic mode: always an instruction.
 */
export function responseFormatFor(format: ResponseFormat | undefined, ctx: ParamContext): ResponseFormatPlan {
  if (!format || format.type === 'text') return {};
  const schema = format.type === 'json_schema' ? format.json_schema?.schema : undefined;
  if (!schema) return { systemInstruction: 'Respond with a single valid JSON object and nothing else: no prose, no code fences.' };
  const version = claudeVersion(ctx.upstreamModel);
  if (version !== undefined && version >= 4.5) {
    return { outputConfig: { format: { type: 'json_schema', schema } } };
  }
  return {
    systemInstruction:
      'Respond with a single valid JSON object and nothing else (no prose, no code fences). ' +
      `It must conform to this JSON Schema:\n${JSON.stringify(schema)}`,
  };
}
