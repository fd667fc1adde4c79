// Google's error envelope {error:{code,message,status,details}} → the OpenAI envelope and status,
// through the shared upstreamError so Gemini failures read like every other provider's.

import type { ProviderError } from '../types.js';
import { parseErrorBody, upstreamError, type UpstreamErrorDetails } from '../shared/upstream-error.js';

type Headers = Record<string, string | string[] | undefined>;

export interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<Record<string, unknown>>;
}

const KIND_BY_STATUS: Record<string, UpstreamErrorDetails['kind']> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'invalid_request',
  OUT_OF_RANGE: 'invalid_request',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  NOT_FOUND: 'not_found',
  RESOURCE_EXHAUSTED: 'rate_limit',
  INTERNAL: 'server',
  UNKNOWN: 'server',
  CANCELLED: 'server',
  DATA_LOSS: 'server',
  UNAVAILABLE: 'overloaded',
  DEADLINE_EXCEEDED: 'timeout',
};

function detailOfType(error: GoogleErrorBody, type: string): Record<string, unknown> | undefined {
  return error.details?.find((d) => typeof d?.['@type'] === 'string' && (d['@type'] as string).endsWith(type));
}

/** RetryInfo.retryDelay is a protobuf Duration in JSON form: "34.4s". */
export function retryDelayMs(error: GoogleErrorBody): number | undefined {
  const delay = detailOfType(error, 'google.rpc.RetryInfo')?.retryDelay;
  if (typeof delay !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** An invalid key comes back as 400 INVALID_ARGUMENT: it is still the gateway's credential, not the caller's request. */
function isKeyRejected(error: GoogleErrorBody): boolean {
  const reason = detailOfType(error, 'google.rpc.ErrorInfo')?.reason;
  return reason === 'API_KEY_INVALID' || /API key not valid|API key expired/i.test(error.message ?? '');
}

/** Clients (LangChain) recognise context overflow by OpenAI's wording and code. */
function contextLengthError(message: string): UpstreamErrorDetails | undefined {
  const match = /input token count(?: \((\d+)\))? exceeds the maximum number of tokens allowed(?: \((\d+)\))?/i.exec(message);
  if (!match) return undefined;
  const [, used, limit] = match;
  return {
    kind: 'invalid_request',
    code: 'context_length_exceeded',
    message: `This model's maximum context length is ${limit ?? 'smaller than'} tokens. However, your messages resulted in ${used ?? 'more'} tokens. (${message})`,
  };
}

function fieldOfViolation(error: GoogleErrorBody): string | null {
  const violations = detailOfType(error, 'google.rpc.BadRequest')?.fieldViolations;
  const field = Array.isArray(violations) ? (violations[0] as { field?: unknown })?.field : undefined;
  return typeof field === 'string' ? field : null;
}

/** For HTTP error answers and for `{error}` events inside a stream (status from the body then). */
export function googleError(httpStatus: number | undefined, error: GoogleErrorBody, headers: Headers = {}): ProviderError {
  const status = httpStatus ?? (typeof error.code === 'number' ? error.code : 500);
  const message = error.message ?? `Gemini answered HTTP ${status}`;
  let details: UpstreamErrorDetails = { message, kind: error.status ? KIND_BY_STATUS[error.status] : undefined, param: fieldOfViolation(error) };
  if (isKeyRejected(error)) details = { message, kind: 'auth' };
  else details = { ...details, ...contextLengthError(message) };
  const retryMs = retryDelayMs(error);
  // The body's RetryInfo is Google's own retry hint; a Retry-After header, when present, still wins.
  const withRetry = retryMs !== undefined && headers['retry-after'] === undefined && headers['retry-after-ms'] === undefined
    ? { ...headers, 'retry-after-ms': String(retryMs) }
    : headers;
  return upstreamError(status, details, withRetry);
}

/** The envelope of a parsed body: non-SSE streams wrap it in a JSON array. */
export function googleErrorOf(body: unknown): GoogleErrorBody | undefined {
  const first = Array.isArray(body) ? body[0] : body;
  const error = (first as { error?: unknown } | undefined)?.error;
  return typeof error === 'object' && error !== null ? (error as GoogleErrorBody) : undefined;
}

export function mapGeminiError(status: number, bodyText: string, headers: Headers): ProviderError {
  const error = googleErrorOf(parseErrorBody(bodyText));
  if (!error) return upstreamError(status, { message: bodyText.trim() ? bodyText.trim().slice(0, 500) : undefined }, headers);
  return googleError(status, error, headers);
}
