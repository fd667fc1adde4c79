// Prometheus metrics (prom-client), one registry per gateway instance so tests can run several.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labels = ['model', 'provider', 'status'] as const;
  return {
    registry,
    requests: new Counter({ name: 'omnigate_requests_total', help: 'Chat requests by model, provider and outcome', labelNames: labels, registers: [registry] }),
    errors: new Counter({ name: 'omnigate_errors_total', help: 'Failed chat requests by model, provider and error code', labelNames: ['model', 'provider', 'code'], registers: [registry] }),
    latency: new Histogram({
      name: 'omnigate_request_duration_seconds',
      help: 'Whole request duration',
      labelNames: ['model', 'provider', 'stream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    ttft: new Histogram({
      name: 'omnigate_time_to_first_token_seconds',
      help: 'Time from request to the first streamed chunk',
      labelNames: ['model', 'provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    tokens: new Counter({ name: 'omnigate_tokens_total', help: 'Tokens by model, provider and kind', labelNames: ['model', 'provider', 'kind'], registers: [registry] }),
    costNano: new Counter({ name: 'omnigate_cost_nano_usd_total', help: 'Charged cost in nano-USD', labelNames: ['model', 'provider'], registers: [registry] }),
    retries: new Counter({ name: 'omnigate_upstream_retries_total', help: 'Upstream attempts retried or moved to the next deployment', labelNames: ['provider', 'reason'], registers: [registry] }),
    openStreams: new Gauge({ name: 'omnigate_open_streams', help: 'Streams currently relayed to clients', registers: [registry] }),
    circuitOpen: new Gauge({ name: 'omnigate_deployment_circuit_open', help: '1 while a deployment is out of rotation after repeated failures', labelNames: ['deployment'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
