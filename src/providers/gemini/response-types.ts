// The GenerateContentResponse shape (both endpoints: the stream sends one per SSE event), and the
// small readers parse-response.ts and parse-stream.ts share so the two can never disagree.

import { randomUUID } from 'node:crypto';
import type { GeminiUsageMetadata } from './map-usage.js';

export interface GeminiPartialArg {
  jsonPath?: string;
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  nullValue?: unknown;
  willContinue?: boolean;
}

export interface GeminiFunctionCall {
  id?: string;
  name?: string;
  args?: Record<string, unknown>;
  /** Vertex `streamFunctionCallArguments` only: the arguments arrive as path/value fragments. */
  partialArgs?: GeminiPartialArg[];
  willContinue?: boolean;
}

export interface GeminiResponsePart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: GeminiFunctionCall;
  [other: string]: unknown;
}

export interface GeminiLogprobCandidate {
  token?: string;
  tokenId?: number;
  logProbability?: number;
}

export interface GeminiLogprobsResult {
  topCandidates?: Array<{ candidates?: GeminiLogprobCandidate[] }>;
  chosenCandidates?: GeminiLogprobCandidate[];
}

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiResponsePart[] };
  finishReason?: string;
  finishMessage?: string;
  index?: number;
  logprobsResult?: GeminiLogprobsResult;
  [other: string]: unknown;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  error?: unknown;
}

export type ReadPart =
  | { kind: 'text'; text: string }
  | { kind: 'thought'; text: string }
  | { kind: 'call'; call: GeminiFunctionCall }
  | { kind: 'empty' }
  | { kind: 'unknown'; keys: string[] };

/** What one part contributes; the thought signature riding along is not one of those things. */
export function readPart(part: GeminiResponsePart): ReadPart {
  if (part.functionCall && typeof part.functionCall === 'object') return { kind: 'call', call: part.functionCall };
  if (typeof part.text === 'string') {
    if (part.text === '') return { kind: 'empty' };
    return part.thought === true ? { kind: 'thought', text: part.text } : { kind: 'text', text: part.text };
  }
  const keys = Object.keys(part).filter((k) => k !== 'thoughtSignature' && k !== 'thought');
  return keys.length === 0 ? { kind: 'empty' } : { kind: 'unknown', keys };
}

/**
 * Gemini (Developer API) gives function calls no id. The synthesised one is deterministic for a
 * response (response id + position), unique across turns, and fits every provider's id pattern
 * (Anthropic: ^[a-zA-Z0-9_-]+$), in case the conversation later moves there.
 */
export function toolCallId(responseId: string | undefined, position: number, upstreamId?: string): string {
  if (upstreamId && /^[A-Za-z0-9_-]{1,64}$/.test(upstreamId)) return upstreamId;
  const stem = (responseId ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
  return stem ? `call_${stem}_${position}` : `call_${position}`;
}

export function argumentsJson(args: unknown): string {
  return JSON.stringify(typeof args === 'object' && args !== null ? args : {});
}

/** Gemini logprobs → OpenAI's `choices[].logprobs` object. */
export function mapLogprobs(result: GeminiLogprobsResult | undefined): { content: unknown[]; refusal: null } | null {
  if (!result?.chosenCandidates) return null;
  const entry = (c: GeminiLogprobCandidate) => ({
    token: c.token ?? '',
    logprob: c.logProbability ?? 0,
    bytes: Array.from(Buffer.from(c.token ?? '', 'utf8')),
  });
  return {
    content: result.chosenCandidates.map((chosen, i) => ({
      ...entry(chosen),
      top_logprobs: (result.topCandidates?.[i]?.candidates ?? []).map(entry),
    })),
    refusal: null,
  };
}

/** `chatcmpl-<responseId>`; one is made up when the upstream sent none. */
export function completionId(responseId: string | undefined): string {
  return `chatcmpl-${responseId ?? randomUUID().replace(/-/g, '')}`;
}
