// OpenAI request fields → Gemini `generationConfig`, as a table: one row per field. Adding a parameter
// is adding a row. The request was validated before it got here; rows only rename, clamp to what
// Gemini accepts and reshape.

import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, ReasoningEffort, ResponseFormat } from '../types.js';
import { cleanSchema } from './clean-schema.js';

export type GenerationConfig = Record<string, unknown>;

export interface ParamContext {
  model: ModelEntry;
  upstreamModel: string;
  onDrop(what: string, detail?: unknown): void;
}

interface ParamRule {
  from: string;
  /** Target field in generationConfig, for rows that only rename (and clamp). */
  to?: string;
  /** Inclusive bounds Gemini accepts; values outside are clamped and reported. */
  range?: [number, number];
  /** Rows that reshape: return the generationConfig fields to set, or undefined to send nothing. */
  transform?: (value: any, ctx: ParamContext) => GenerationConfig | undefined;
  /** Rows with no Gemini equivalent: dropped and reported with this reason. */
  drop?: string;
}

/** Gemini accepts at most five stop sequences. */
const MAX_STOP_SEQUENCES = 5;

function outputCap(value: number, ctx: ParamContext): GenerationConfig {
  if (ctx.model.maxOutput > 0 && value > ctx.model.maxOutput) {
    ctx.onDrop('max_tokens', { asked: value, sent: ctx.model.maxOutput, reason: "above the model's max output" });
    return { maxOutputTokens: ctx.model.maxOutput };
  }
  return { maxOutputTokens: value };
}

function stopSequences(value: string | string[], ctx: ParamContext): GenerationConfig | undefined {
  const list = (Array.isArray(value) ? value : [value]).filter((s) => typeof s === 'string' && s !== '');
  if (list.length > MAX_STOP_SEQUENCES) ctx.onDrop('stop', { dropped: list.slice(MAX_STOP_SEQUENCES), reason: 'Gemini accepts at most 5' });
  return list.length > 0 ? { stopSequences: list.slice(0, MAX_STOP_SEQUENCES) } : undefined;
}

function responseFormat(value: ResponseFormat, ctx: ParamContext): GenerationConfig | undefined {
  if (value.type === 'json_object') return { responseMimeType: 'application/json' };
  if (value.type === 'json_schema') {
    const schema = value.json_schema?.schema;
    if (!schema) return { responseMimeType: 'application/json' };
    const cleaned = cleanSchema(schema, 'response_format.json_schema.schema');
    if (cleaned.dropped.length > 0) ctx.onDrop('response_format schema keywords', cleaned.dropped);
    return { responseMimeType: 'application/json', responseSchema: cleaned.schema };
  }
  return undefined;
}

// Gemini 3 takes a level; 2.5 takes a token budget (0 turns thinking off where the model allows it).
const THINKING_LEVEL: Record<ReasoningEffort, 'low' | 'high'> = {
  none: 'low',
  minimal: 'low',
  low: 'low',
  medium: 'high',
  high: 'high',
  xhigh: 'high',
};
const THINKING_BUDGET: Record<ReasoningEffort, number> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 32768,
};

function usesThinkingLevel(upstreamModel: string): boolean {
  return /^(models\/)?gemini-3/.test(upstreamModel);
}

function thinkingConfig(effort: ReasoningEffort, ctx: ParamContext): GenerationConfig | undefined {
  if (!ctx.model.capabilities.reasoning) {
    ctx.onDrop('reasoning_effort', { model: ctx.model.id, reason: 'the model does not think' });
    return undefined;
  }
  if (usesThinkingLevel(ctx.upstreamModel)) {
    return { thinkingConfig: { thinkingLevel: THINKING_LEVEL[effort] ?? 'high', includeThoughts: true } };
  }
  const budget = THINKING_BUDGET[effort] ?? THINKING_BUDGET.medium;
  return { thinkingConfig: { thinkingBudget: budget, includeThoughts: budget > 0 } };
}

export const PARAM_RULES: ParamRule[] = [
  { from: 'temperature', to: 'temperature', range: [0, 2] },
  { from: 'top_p', to: 'topP', range: [0, 1] },
  { from: 'top_k', to: 'topK', range: [1, Number.MAX_SAFE_INTEGER] },
  { from: 'max_tokens', transform: outputCap },
  // After max_tokens so that the newer field wins when a client sends both.
  { from: 'max_completion_tokens', transform: outputCap },
  { from: 'stop', transform: stopSequences },
  { from: 'n', to: 'candidateCount', range: [1, 8] },
  { from: 'seed', to: 'seed' },
  { from: 'presence_penalty', to: 'presencePenalty' },
  { from: 'frequency_penalty', to: 'frequencyPenalty' },
  { from: 'logprobs', to: 'responseLogprobs' },
  { from: 'top_logprobs', to: 'logprobs', range: [0, 20] },
  { from: 'response_format', transform: responseFormat },
  { from: 'reasoning_effort', transform: thinkingConfig },
  { from: 'user', drop: 'Gemini has no end-user field' },
  { from: 'logit_bias', drop: 'Gemini has no logit bias' },
  { from: 'parallel_tool_calls', drop: 'Gemini has no switch for parallel calls' },
];

/** Fields translated outside the table (messages, tools) or that only concern the gateway. */
const HANDLED_ELSEWHERE = new Set(['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice']);

const RULES_BY_FIELD = new Map(PARAM_RULES.map((r) => [r.from, r]));

export function buildGenerationConfig(req: ChatRequest, ctx: ParamContext): GenerationConfig | undefined {
  const config: GenerationConfig = {};
  for (const rule of PARAM_RULES) {
    const value = req[rule.from];
    if (value === undefined || value === null) continue;
    if (rule.drop) {
      ctx.onDrop(rule.from, rule.drop);
      continue;
    }
    if (rule.transform) {
      Object.assign(config, rule.transform(value, ctx));
      continue;
    }
    let sent = value;
    if (rule.range && typeof value === 'number') {
      sent = Math.min(rule.range[1], Math.max(rule.range[0], value));
      if (sent !== value) ctx.onDrop(rule.from, { asked: value, sent, reason: 'outside the range Gemini accepts' });
    }
    config[rule.to!] = sent;
  }
  for (const field of Object.keys(req)) {
    if (!RULES_BY_FIELD.has(field) && !HANDLED_ELSEWHERE.has(field) && req[field] !== undefined) ctx.onDrop('parameter', { field });
  }
  // Thinking models return their thoughts only when asked; DESIGN.md promises them as reasoning_content.
  if (ctx.model.capabilities.reasoning && config.thinkingConfig === undefined) {
    config.thinkingConfig = { includeThoughts: true };
  }
  return Object.keys(config).length > 0 ? config : undefined;
}
