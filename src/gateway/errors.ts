// Errors the gateway answers itself, in the OpenAI envelope. Upstream failures arrive as ProviderError
// (already mapped by the adapter); both become GatewayError at the HTTP edge.

import { ProviderError, type OpenAIErrorBody } from '../providers/types.js';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly error: OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(error.message);
    this.name = 'GatewayError';
  }

  static from(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (err instanceof ProviderError) {
      const headers: Record<string, string> = {};
      if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
      return new GatewayError(err.status, err.error, headers);
    }
    return new GatewayError(500, { message: 'The gateway had an internal error.', type: 'server_error', param: null, code: 'internal_error' });
  }

  toJSON(): { error: OpenAIErrorBody } {
    return { error: this.error };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, { message, type: 'invalid_request_error', param, code });

export const invalidApiKey = (message = 'Incorrect API key provided. Pass a valid Omnigate key as "Authorization: Bearer sk-…".') =>
  new GatewayError(401, { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });

export const modelNotFound = (model: string) =>
  new GatewayError(404, {
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  });

export const modelNotAllowed = (model: string) =>
  new GatewayError(403, {
    message: `This API key is not allowed to use the model \`${model}\`.`,
    type: 'permission_error',
    param: 'model',
    code: 'model_not_allowed',
  });

export const providerNotConfigured = (provider: string) =>
  new GatewayError(503, {
    message: `The provider ${provider} is not configured on this gateway (its API key is unset).`,
    type: 'upstream_error',
    param: null,
    code: 'provider_not_configured',
  });

export const insufficientQuota = (message: string) =>
  // x-should-retry:false stops the OpenAI SDKs from retrying a request that can only fail again.
  new GatewayError(402, { message, type: 'insufficient_quota', param: null, code: 'insufficient_quota' }, { 'x-should-retry': 'false' });

export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new GatewayError(429, { message, type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' }, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

export const upstreamTimeout = (message: string) =>
  new GatewayError(504, { message, type: 'upstream_error', param: null, code: 'upstream_timeout' });

export const upstreamFailure = (message: string) =>
  new GatewayError(502, { message, type: 'upstream_error', param: null, code: 'upstream_error' });
