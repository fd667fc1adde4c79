// Anthropic errors → the OpenAI error envelope and status, through the shared upstreamError so that
// the same condition maps the same way whichever provider is behind a model.
// Body: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_…"}.

import { ProviderError } from '../types.js';
import { parseErrorBody, upstreamError, type UpstreamErrorDetails } from '../shared/upstream-error.js';

type Headers = Record<string, string | string[] | undefined>;
type Kind = NonNullable<UpstreamErrorDetails['kind']>;

/** error.type → meaning. The type is more precise than the status (529 is not a standard status). */
const KIND_OF_TYPE: Record<string, Kind> = {
  invalid_request_error: 'invalid_request',
  // 401 and 403 concern the gateway's own Anthropic key, never the caller's: 502 without the message.
  authentication_error: 'auth',
  permission_error: 'auth',
  // 402: the operator's Anthropic account is out of credit.
  billing_error: 'quota',
  not_found_error: 'not_found',
  rate_limit_error: 'rate_limit',
  api_error: 'server',
  timeout_error: 'timeout',
  overloaded_error: 'overloaded',
};

/** Status a stream `error` event stands for (it arrives after a 200, so the type is all there is). */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

// "prompt is too long: 210000 tokens > 200000 maximum";
// "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000".
const PROMPT_TOO_LONG = /prompt is too long:\s*(\d+)\s*tokens?\s*>\s*(\d+)/i;
const CONTEXT_LIMIT = /exceed context limit|context window|prompt is too long/i;

function contextLengthMessage(message: string): string {
  const m = PROMPT_TOO_LONG.exec(message);
  // Clients (LangChain) recognise context overflow by OpenAI's wording, so say it that way.
  if (m) return `This model's maximum context length is ${m[2]} tokens. However, your messages resulted in ${m[1]} tokens. (${message})`;
  return `This model's maximum context length was exceeded. (${message})`;
}

function fromAnthropic(status: number, type: string | undefined, message: string | undefined, headers: Headers): ProviderError {
  if (type === 'request_too_large' || (status === 413 && !type)) {
    // The request is the client's and too big for Anthropic (32 MB): the gateway's own 413.
    const base = upstreamError(400, { message: message ?? 'The request is too large for the upstream provider.', kind: 'invalid_request', code: 'request_too_large' }, headers);
    return new ProviderError(413, base.error, false);
  }
  const kind = type && Object.hasOwn(KIND_OF_TYPE, type) ? KIND_OF_TYPE[type] : undefined;
  if ((kind ?? (status === 400 ? 'invalid_request' : undefined)) === 'invalid_request' && message && CONTEXT_LIMIT.test(message)) {
    return upstreamError(status, { message: contextLengthMessage(message), kind: 'invalid_request', code: 'context_length_exceeded', param: 'messages' }, headers);
  }
  return upstreamError(status, { message, kind }, headers);
}

export function mapAnthropicError(status: number, bodyText: string, headers: Headers): ProviderError {
  const body = parseErrorBody(bodyText) as { error?: { type?: unknown; message?: unknown } } | undefined;
  const type = typeof body?.error?.type === 'string' ? body.error.type : undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
  return fromAnthropic(status, type, message, headers);
}

/** An `error` event inside a 200 stream (typically overloaded_error): what the stream translator throws. */
export function mapAnthropicStreamError(payload: unknown): ProviderError {
  const error = (payload as { error?: { type?: unknown; message?: unknown } } | undefined)?.error;
  const type = typeof error?.type === 'string' ? error.type : undefined;
  const message = typeof error?.message === 'string' ? error.message : 'The upstream stream reported an error.';
  const status = type && Object.hasOwn(STATUS_OF_TYPE, type) ? STATUS_OF_TYPE[type] : 500;
  return fromAnthropic(status, type, message, {});
}
