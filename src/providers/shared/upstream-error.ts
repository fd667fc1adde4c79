// Maps an upstream HTTP failure to what the client sees. Shared by every adapter's mapError so that
// the same upstream condition gives the same OpenAI status and code whichever provider is behind it.

import { ProviderError, type OpenAIErrorBody } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

const SECRET_PATTERNS = [
  /\bsk-[A-Za-z0-9_\-*]{6,}/g, // OpenAI, DeepSeek, Anthropic (sk-ant-…)
  /\bxai-[A-Za-z0-9_\-*]{6,}/g,
  /\bAIza[A-Za-z0-9_\-]{10,}/g, // Google API keys
  /\b(?:Bearer|key=)\s*[A-Za-z0-9_\-.]{12,}/gi,
];

/** Upstream messages sometimes quote the key they rejected ("Incorrect API key provided: sk-…"). */
export function redactSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '[redacted]');
  return out.length > 2000 ? `${out.slice(0, 2000)}…` : out;
}

/** Retry-After in seconds or an HTTP date, or retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export interface UpstreamErrorDetails {
  /** The upstream's own message; redacted before it reaches the client. */
  message?: string;
  param?: string | null;
  /** The upstream's error code, kept for client errors (e.g. context_length_exceeded). */
  code?: string | null;
  /** Upstream-specific meaning that overrides the status (Gemini RESOURCE_EXHAUSTED, Anthropic overloaded_error). */
  kind?: 'rate_limit' | 'overloaded' | 'auth' | 'invalid_request' | 'not_found' | 'server' | 'timeout' | 'quota';
}

function envelope(message: string, type: string, code: string | null, param: string | null = null): OpenAIErrorBody {
  return { message, type, param, code };
}

function kindOf(status: number): NonNullable<UpstreamErrorDetails['kind']> {
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'quota';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  return 'invalid_request';
}

export function upstreamError(status: number, details: UpstreamErrorDetails, headers: Headers = {}): ProviderError {
  const message = redactSecrets(details.message ?? `upstream answered HTTP ${status}`);
  const retryAfter = retryAfterMs(headers);
  switch (details.kind ?? kindOf(status)) {
    case 'invalid_request':
      return new ProviderError(400, envelope(message, 'invalid_request_error', details.code ?? null, details.param ?? null), false);
    case 'not_found':
      return new ProviderError(404, envelope(message, 'invalid_request_error', 'model_not_found', details.param ?? null), false);
    case 'auth':
      // The upstream rejected the gateway's own credentials: the operator's problem, never the caller's key.
      return new ProviderError(502, envelope('The upstream provider rejected the gateway credentials.', 'upstream_error', 'upstream_error'), false);
    case 'quota':
      return new ProviderError(502, envelope('The upstream provider account has no remaining quota.', 'upstream_error', 'upstream_error'), false);
    case 'rate_limit':
      return new ProviderError(429, envelope(message, 'rate_limit_error', 'rate_limit_exceeded'), true, retryAfter);
    case 'timeout':
      return new ProviderError(504, envelope(message, 'upstream_error', 'upstream_timeout'), true, retryAfter);
    case 'overloaded':
      return new ProviderError(503, envelope(message, 'upstream_error', 'upstream_error'), true, retryAfter);
    case 'server':
      return new ProviderError(502, envelope(message, 'upstream_error', 'upstream_error'), true, retryAfter);
  }
}

/** Parses a body that may not be JSON at all (HTML error pages from proxies). */
export function parseErrorBody(bodyText: string): unknown {
  try {
    return JSON.parse(bodyText);
  } catch {
    return undefined;
  }
}
