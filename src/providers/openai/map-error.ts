// OpenAI-compatible error bodies → the client's error. OpenAI and DeepSeek send the OpenAI envelope;
// xAI may send {code, error} strings instead, and answers a bad key with 400 instead of 401.

import type { ProviderError } from '../types.js';
import { parseErrorBody, upstreamError, type UpstreamErrorDetails } from '../shared/upstream-error.js';

type Headers = Record<string, string | string[] | undefined>;

export function mapOpenAIError(status: number, bodyText: string, headers: Headers): ProviderError {
  const body = parseErrorBody(bodyText) as any;
  const err = body?.error;
  const details: UpstreamErrorDetails =
    err && typeof err === 'object'
      ? { message: err.message, code: err.code ?? null, param: err.param ?? null }
      : { message: typeof err === 'string' ? safeDecode(err) : typeof body?.message === 'string' ? body.message : undefined };
  const message = details.message ?? '';
  if (/incorrect api key|invalid api key|api key not valid/i.test(message)) details.kind = 'auth';
  else if (err?.code === 'insufficient_quota' || err?.type === 'insufficient_quota') details.kind = 'quota';
  else if (status === 422) details.kind = 'invalid_request';
  return upstreamError(status, details, headers);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
