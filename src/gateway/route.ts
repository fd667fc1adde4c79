// Getting a successful upstream response: deployments in weighted order (skipping those whose circuit
// is open), retries with jittered backoff (honouring Retry-After) for connect errors, timeouts, 429 and
// 5xx, then the next deployment, then the fallback chain. All of this happens before the first byte
// reaches the client: a streamed response is returned only once its first bytes arrived, so an upstream
// that resets or stalls before answering is retried too. After that nothing is retried (see chat.ts).

import type { ChatRequest, ProviderAdapter, UpstreamTarget } from '../providers/types.js';
import { ProviderError } from '../providers/types.js';
import { adapters } from '../providers/index.js';
import type { Deployment, ResolvedModel } from '../catalog/catalog.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Gateway } from './gateway.js';
import type { Metrics } from './metrics.js';
import { GatewayError, upstreamFailure, upstreamTimeout } from './errors.js';
import { inlineImageUrls } from './inline-images.js';
import { checkCapabilities } from './prepare.js';
import { CircuitBreakers } from './circuit-breaker.js';
import { classifyTransportError, sendUpstream, UpstreamTransportError, type UpstreamResponse } from './upstream-client.js';
import type { CancelSignal } from './call-abort.js';

const BASE_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;
/** A Retry-After longer than this is not waited for: the next deployment is tried, or the client gets the 429. */
const MAX_RETRY_AFTER_MS = 5_000;
/** An open circuit's cool-down doubles on each failed probe, up to this multiple of the configured one. */
const MAX_COOLDOWN_FACTOR = 8;

export interface UpstreamAttempt {
  response: UpstreamResponse;
  /** Streamed responses: the body, whose first bytes have already arrived. */
  stream: AsyncIterable<Buffer>;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  deployment: Deployment;
  /** The catalog model actually served (differs from the requested one after a fallback). */
  served: ResolvedModel;
  streamed: boolean;
}

/** One circuit breaker per deployment, reporting to the gateway's metrics and log. Built once at start. */
export function createDeploymentBreakers(config: Pick<Config, 'breaker'>, metrics: Metrics, log: Logger): CircuitBreakers {
  const { failureThreshold, cooldownMs } = config.breaker;
  return new CircuitBreakers(
    { failureThreshold, cooldownMs, maxCooldownMs: cooldownMs * MAX_COOLDOWN_FACTOR },
    {
      onOpen: (deployment, ms) => {
        metrics.circuitOpen.set({ deployment }, 1);
        log.warn({ deployment, cooldownMs: ms }, 'deployment taken out of rotation after repeated failures');
      },
      onClose: (deployment) => {
        metrics.circuitOpen.set({ deployment }, 0);
        log.info({ deployment }, 'deployment back in rotation');
      },
    },
  );
}

/** Weighted random order, so traffic spreads over deployments by weight and a failing one is skipped. */
export function orderDeployments(deployments: Deployment[], random = Math.random): Deployment[] {
  const pool = deployments.filter((d) => d.apiKey);
  if (pool.length === 1) return pool;
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

/** Full jitter over an exponential ceiling; Retry-After, when the upstream sent one, is honoured as is. */
export function backoffMs(attempt: number, retryAfter?: number, random = Math.random): number {
  if (retryAfter !== undefined) return retryAfter;
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

function sleep(ms: number, signal: CancelSignal): Promise<void> {
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

/**
 * Waits for the first bytes of a streamed body, so a reset or a stall before the upstream said anything
 * is still a failure of this attempt (retryable), not a stream that already started.
 */
async function afterFirstBytes(body: UpstreamResponse['body']): Promise<AsyncIterable<Buffer>> {
  try {
    await body.arrival();
  } catch (err) {
    throw classifyTransportError(err);
  }
  return body;
}

/**
 * What an upstream HTTP failure means for routing: the request itself is wrong (every deployment would
 * refuse it: answer now), this deployment cannot serve (its key or account: try the next one), or a
 * passing failure (retry here with backoff).
 */
function failureScope(status: number, mapped: ProviderError): 'request' | 'deployment' | 'transient' {
  if (mapped.retryable) return 'transient';
  if (status === 401 || status === 402 || status === 403 || status === 429 || status >= 500) return 'deployment';
  return 'request';
}

const EMPTY_STREAM: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: async function* () {} };

export async function callUpstream(
  gw: Gateway,
  primary: ResolvedModel,
  request: ChatRequest,
  wantStream: boolean,
  signal: CancelSignal,
): Promise<UpstreamAttempt> {
  const breakers = gw.breakers;
  const chain = gw.catalog.chainOf(primary);
  let lastError: GatewayError | undefined;
  const skipped: string[] = [];
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
    let shaped: ChatRequest | undefined;
    for (const deployment of orderDeployments(served.deployments)) {
      if (!breakers.tryAcquire(deployment.id)) {
        skipped.push(deployment.id);
        continue;
      }
      if (!shaped) {
        const messages = adapter.imageUrls === 'inline' ? await inlineImageUrls(request.messages, gw.config.allowPrivateUrls) : request.messages;
        shaped = messages === request.messages ? request : { ...request, messages };
      }
      const target: UpstreamTarget = { baseUrl: deployment.baseUrl, apiKey: deployment.apiKey, upstreamModel: deployment.upstreamModel, model: served.entry };
      const http = adapter.buildRequest(shaped, target, {
        stream: streamed,
        onDrop: (what, detail) => gw.log.debug({ model: served.entry.id, dropped: what, detail }, 'request field the upstream cannot take was dropped'),
      });
      const provider = served.entry.provider;
      for (let attempt = 0; attempt <= gw.config.maxRetries; attempt++) {
        let retryAfter: number | undefined;
        try {
          const response = await sendUpstream(gw.agent, http, signal);
          if (response.status >= 200 && response.status < 300) {
            const stream = streamed ? await afterFirstBytes(response.body) : EMPTY_STREAM;
            breakers.success(deployment.id);
            return { response, stream, adapter, target, deployment, served, streamed };
          }
          const mapped = adapter.mapError(response.status, await readErrorBody(response), response.headers);
          lastError = GatewayError.from(mapped);
          const scope = failureScope(response.status, mapped);
          if (scope === 'request') {
            breakers.success(deployment.id); // it answered: the deployment is healthy, the request is not
            throw lastError;
          }
          breakers.failure(deployment.id);
          gw.metrics.retries.inc({ provider, reason: String(response.status) });
          if (scope === 'deployment') break;
          retryAfter = mapped.retryAfterMs;
        } catch (err) {
          if (err instanceof GatewayError) throw err;
          if (err instanceof ProviderError) throw GatewayError.from(err);
          const transport = classifyTransportError(err);
          if (transport.kind === 'aborted' || signal.aborted) throw transport;
          breakers.failure(deployment.id);
          lastError = transportToGatewayError(transport);
          gw.metrics.retries.inc({ provider, reason: transport.kind });
        }
        if (attempt === gw.config.maxRetries || (retryAfter ?? 0) > MAX_RETRY_AFTER_MS) break;
        // A deployment whose circuit just opened is not retried: the next one (or the fallback) is.
        if (breakers.isOpen(deployment.id)) break;
        await sleep(backoffMs(attempt, retryAfter), signal);
      }
    }
  }
  if (!lastError && skipped.length) {
    // Every deployment that could serve this is cooling down after repeated failures: fail fast.
    const seconds = Math.max(1, Math.ceil(breakers.retryInMs(skipped) / 1000));
    throw new GatewayError(
      503,
      { message: 'The upstream provider is temporarily unavailable after repeated failures; retry later.', type: 'upstream_error', param: null, code: 'upstream_unavailable' },
      { 'retry-after': String(seconds) },
    );
  }
  throw lastError ?? upstreamFailure('No upstream deployment could serve this request.');
}
