// Responses API failures → ProviderError: HTTP errors (OpenAI error envelope), and the `error` /
// `response.failed` payloads that arrive with a 200 (mid-stream, or a whole response with status failed).

import { parseErrorBody, upstreamError, type UpstreamErrorDetails } from '../shared/upstream-error.js';
import type { ProviderError } from '../types.js';
import type { ResponsesFailure } from './wire-types.js';

type Headers = Record<string, string | string[] | undefined>;

/** Error codes that mean something other than their HTTP status suggests. */
function kindOfCode(code: string | null | undefined, type: string | undefined): UpstreamErrorDetails['kind'] {
  const tag = code ?? type;
  // insufficient_quota arrives as 429 but is the gateway's upstream account being empty: retrying
  // will not help and the caller did nothing wrong.
  if (tag === 'insufficient_quota' || type === 'insufficient_quota') return 'quota';
  if (tag === 'server_is_overloaded' || type === 'service_unavailable_error') return 'overloaded';
  if (tag === 'rate_limit_exceeded') return 'rate_limit';
  return undefined;
}

function failureOf(body: unknown): ResponsesFailure | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const error = (body as { error?: unknown }).error;
  if (error && typeof error === 'object') return error as ResponsesFailure;
  return undefined;
}

export function mapResponsesError(status: number, bodyText: string, headers: Headers): ProviderError {
  const failure = failureOf(parseErrorBody(bodyText));
  return upstreamError(
    status,
    {
      message: failure?.message ?? (bodyText.trim() ? bodyText.trim() : undefined),
      code: failure?.code ?? null,
      param: failure?.param ?? null,
      kind: kindOfCode(failure?.code, failure?.type),
    },
    headers,
  );
}

/** Client-side failure codes a Responses stream can end with; anything else is the upstream's fault. */
const INVALID_REQUEST_CODES = new Set([
  'invalid_prompt',
  'invalid_request_error',
  'context_length_exceeded',
  'invalid_image',
  'invalid_image_format',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'unsupported_image_media_type',
  'empty_image_file',
  'invalid_base64_image',
  'image_parse_error',
  'image_content_policy_violation',
  'image_file_too_large',
  'image_file_not_found',
]);

/** An `error` event or a failed response: there is no HTTP status, so the code decides. */
export function mapResponsesFailure(failure: ResponsesFailure | null | undefined): ProviderError {
  const code = failure?.code ?? null;
  const kind =
    kindOfCode(code, failure?.type) ??
    (code && INVALID_REQUEST_CODES.has(code) ? 'invalid_request' : failure?.type === 'invalid_request_error' ? 'invalid_request' : 'server');
  return upstreamError(kind === 'invalid_request' ? 400 : 500, {
    message: failure?.message ?? 'The upstream response failed.',
    code,
    param: failure?.param ?? null,
    kind,
  });
}
