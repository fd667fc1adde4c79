// The one HTTP client for upstream calls: an undici Agent keeps a keep-alive connection pool per origin,
// and its timeouts are the gateway's connect, time-to-first-byte and idle-between-chunks timeouts.

import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import type { UpstreamHttpRequest } from '../providers/types.js';
import type { CancelSignal } from './call-abort.js';

export interface UpstreamTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** Why an upstream call failed before or while reading it, for retries, timeouts and usage records. */
export class UpstreamTransportError extends Error {
  constructor(
    readonly kind: 'connect' | 'timeout' | 'reset' | 'aborted',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamTransportError';
  }
}

export function createUpstreamAgent(timeouts: UpstreamTimeouts): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.firstByteMs,
    bodyTimeout: timeouts.idleMs,
    keepAliveTimeout: 30_000,
    connections: 256,
    pipelining: 1,
  });
}

export function classifyTransportError(err: unknown): UpstreamTransportError {
  if (err instanceof UpstreamTransportError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED') return new UpstreamTransportError('aborted', 'request aborted');
  // Every timeout (connect, first byte, idle between chunks) answers 504; all are retried before the first byte.
  if (
    err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT' || e?.code === 'ETIMEDOUT'
  ) {
    return new UpstreamTransportError('timeout', e.message ?? 'upstream timed out');
  }
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || e?.code === 'EHOSTUNREACH' || e?.code === 'ENETUNREACH') {
    return new UpstreamTransportError('connect', e.message ?? 'cannot connect upstream');
  }
  return new UpstreamTransportError('reset', e?.message ?? 'upstream connection failed');
}

export async function sendUpstream(agent: Agent, req: UpstreamHttpRequest, signal: CancelSignal): Promise<UpstreamResponse> {
  try {
    // undici takes any object with addEventListener and `aborted` (api-request.js); its type names only the two built-in kinds.
    const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body, dispatcher: agent, signal: signal as AbortSignal });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    throw classifyTransportError(err);
  }
}
