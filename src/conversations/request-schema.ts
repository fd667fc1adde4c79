// The request bodies and query strings of /aichat/conversations (DESIGN.md section 5), validated once.
// Errors are 400s in the OpenAI envelope naming the field, as on /v1/chat/completions.

import { z } from 'zod';
import { invalidRequest } from '../gateway/errors.js';

/** More references than this in one turn is almost certainly a mistake, and each URL costs a fetch. */
export const MAX_REFERENCES = 16;

const required = () =>
  z.string({ error: (issue) => (issue.input === undefined || issue.input === null ? 'is required' : 'expected a string') }).min(1, 'is required');

const conversationRequest = z
  .object({
    model: required(),
    question: required(),
    id: z.string().min(1).max(200).nullable().optional(),
    preset: z.string().nullable().optional(),
    stateful: z.boolean().nullable().optional(),
    references: z.array(z.string().min(1)).max(MAX_REFERENCES).nullable().optional(),
    // Beyond the original contract: the two sampling knobs people ask for first.
    temperature: z.number().min(0).max(2).nullable().optional(),
    max_tokens: z.number().int().min(1).nullable().optional(),
  })
  .loose();

export interface ConversationRequest {
  model: string;
  question: string;
  id?: string;
  /** undefined: keep the conversation's stored preset; '' clears it. */
  preset?: string;
  stateful: boolean;
  references: string[];
  temperature?: number;
  max_tokens?: number;
}

function paramOf(path: PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

export function parseConversationRequest(body: unknown): ConversationRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object with at least "model" and "question".');
  }
  const parsed = conversationRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = paramOf(issue.path);
    const missing = issue.message === 'is required';
    throw invalidRequest(
      missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param}': ${issue.message}.`,
      param || null,
      missing ? 'missing_required_parameter' : 'invalid_value',
    );
  }
  const b = parsed.data;
  return {
    model: b.model,
    question: b.question,
    id: b.id ?? undefined,
    preset: b.preset ?? undefined,
    stateful: b.stateful === true,
    references: b.references ?? [],
    temperature: b.temperature ?? undefined,
    max_tokens: b.max_tokens ?? undefined,
  };
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).optional(),
});

export type ListQuery = z.infer<typeof listQuery>;

export function parseListQuery(query: unknown): ListQuery {
  const parsed = listQuery.safeParse(query ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = paramOf(issue.path);
    throw invalidRequest(`Invalid value for '${param}': ${issue.message}.`, param || null, 'invalid_value');
  }
  return parsed.data;
}

export type AnswerFormat = 'json' | 'ndjson' | 'sse';

/** Streaming is chosen by the Accept header, as the original API does; anything else gets one JSON body. */
export function answerFormatOf(accept: string | undefined): AnswerFormat {
  const value = (accept ?? '').toLowerCase();
  if (value.includes('application/x-ndjson')) return 'ndjson';
  if (value.includes('text/event-stream')) return 'sse';
  return 'json';
}
