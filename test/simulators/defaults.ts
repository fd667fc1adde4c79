// Default replies per dialect, used when a test queued nothing: each echoes the request into a
// plausible answer so that tests can assert on what the gateway sent and what the client got.

import type { RecordedRequest, Reply } from './server.js';
import { openaiChatReply } from './openai.js';
import { anthropicReply } from './anthropic.js';
import { geminiReply } from './gemini.js';
import { responsesReply } from './responses.js';

export type Dialect = 'openai' | 'openai-responses' | 'anthropic' | 'gemini' | 'unknown';

export function dialectOf(path: string): Dialect {
  if (path.startsWith('/v1/chat/completions')) return 'openai';
  if (path.startsWith('/v1/responses')) return 'openai-responses';
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1beta/models/')) return 'gemini';
  return 'unknown';
}

export function defaultReply(req: RecordedRequest): Reply {
  switch (req.dialect) {
    case 'openai':
      return openaiChatReply(req);
    case 'openai-responses':
      return responsesReply(req);
    case 'anthropic':
      return anthropicReply(req);
    case 'gemini':
      return geminiReply(req);
    default:
      return { kind: 'json', status: 404, body: { error: { message: `no route ${req.path}`, type: 'invalid_request_error' } } };
  }
}

/** The text of the last user message, whatever the dialect put it in. */
export function lastUserText(messages: Array<{ role?: string; content?: unknown }> | undefined): string {
  const last = [...(messages ?? [])].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .map((p: any) => (typeof p?.text === 'string' ? p.text : ''))
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

/** A rough, deterministic token count for simulated usage: one token per 4 characters, at least 1. */
export function simTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
