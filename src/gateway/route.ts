// Getting a successful upstream response: deployments in weighted order, retries with jittered backoff
// (honouring Retry-After) for connect errors, 429 and 5xx, then the fallback chain. All of this happens
// before the first byte reaches the client; after it, nothing is retried (see chat.ts).

import type { ChatRequest, ProviderAdapter, UpstreamTarget } from '../providers/types.js';
import { ProviderError } from '../providers/types.js';
import { adapters } from '../providers/index.js';
import type { Deployment, ResolvedModel } from '../catalog/catalog.js';
import type { Gateway } from './gateway.js';
import { GatewayError, upstreamFailure, upstreamTimeout } from './errors.js';
import { inlineImageUrls } from './inline-images.js';
import { checkCapabilities } from './prepare.js';
import { sendUpstream, UpstreamTransportError, type UpstreamResponse } from './upstream-client.js';

const BASE_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;
/** A Retry-After longer than this is not waited for: the client gets the 429 and decides. */
const MAX_RETRY_AFTER_MS = 5_000;

export interface UpstreamAttempt {
  response: UpstreamResponse;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  deployment: Deployment;
  /** The catalog model actually served (differs from the requested one after a fallback). */
  served: ResolvedModel;
  streamed: boolean;
}

/** Weighted random order, so traffic spreads over deployments by weight and a failing one is skipped. */
export function orderDeployments(deployments: Deployment[], random = Math.random): Deployment[] {
  const pool = deployments.filter((d) => d.apiKey);
  const out: Deployment[] = [];
  while (pool.length) {
    const total = pool.reduce((sum, d) => sum + d.weight, 0);
    let pick = random() * total;
    let index = pool.findIndex((d) => (pick -= d.weight) < 0);
    if (index < 0) index = pool.length - 1;
    out.push(...pool.splice(index, 1));
  }
  return out;
}

function backoffMs(attempt: number, retryAfter?: number): number {
  if (retryAfter !== undefined) return retryAfter;
  const exp = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return exp / 2 + Math.random() * (exp / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function transportToGatewayError(err: UpstreamTransportError): GatewayError {
  if (err.kind === 'timeout') return upstreamTimeout('The upstream provider did not answer in time.');
  return upstreamFailure('The upstream provider could not be reached.');
}

async function readErrorBody(response: UpstreamResponse): Promise<string> {
  try {
    return await response.body.text();
  } catch {
    return '';
  }
}

export async function callUpstream(
  gw: Gateway,
  primary: ResolvedModel,
  request: ChatRequest,
  wantStream: boolean,
  signal: AbortSignal,
): Promise<UpstreamAttempt> {
  const chain = [primary, ...primary.fallbacks.map((id) => gw.catalog.get(id)).filter((m): m is ResolvedModel => !!m)];
  let lastError: GatewayError | undefined;
  for (const [chainIndex, served] of chain.entries()) {
    if (chainIndex > 0) {
      try {
        checkCapabilities(served, request);
      } catch {
        continue; // a fallback that cannot serve this request (no vision, no tools) is skipped
      }
    }
    const adapter = adapters[served.dialect];
    const streamed = wantStream && adapter.supportsStreaming(served.entry);
    const messages = adapter.imageUrls === 'inline' ? await inlineImageUrls(request.messages, gw.config.allowPrivateUrls) : request.messages;
    const shaped = messages === request.messages ? request : { ...request, messages };
    for (const deployment of orderDeployments(served.deployments)) {
      const target: UpstreamTarget = { baseUrl: deployment.baseUrl, apiKey: deployment.apiKey, upstreamModel: deployment.upstreamModel, model: served.entry };
      const http = adapter.buildRequest(shaped, target, {
        stream: streamed,
        onDrop: (what, detail) => gw.log.debug({ model: served.entry.id, dropped: what, detail }, 'request field the upstream cannot take was dropped'),
      });
      for (let attempt = 0; attempt <= gw.config.maxRetries; attempt++) {
        let retryAfter: number | undefined;
        try {
          const response = await sendUpstream(gw.agent, http, signal);
          if (response.status >= 200 && response.status < 300) return { response, adapter, target, deployment, served, streamed };
          const mapped = adapter.mapError(response.status, await readErrorBody(response), response.headers);
          lastError = GatewayError.from(mapped);
          if (!mapped.retryable) throw lastError;
          retryAfter = mapped.retryAfterMs;
          gw.metrics.retries.inc({ provider: served.entry.provider, reason: String(response.status) });
        } catch (err) {
          if (err instanceof GatewayError) throw err;
          if (err instanceof ProviderError) throw GatewayError.from(err);
          const transport = err as UpstreamTransportError;
          if (transport.kind === 'aborted' || signal.aborted) throw transport;
          lastError = transportToGatewayError(transport);
          gw.metrics.retries.inc({ provider: served.entry.provider, reason: transport.kind });
        }
        if (attempt === gw.config.maxRetries || (retryAfter ?? 0) > MAX_RETRY_AFTER_MS) break;
        await sleep(backoffMs(attempt, retryAfter), signal);
      }
    }
  }
  throw lastError ?? upstreamFailure('No upstream deployment could serve this request.');
}
