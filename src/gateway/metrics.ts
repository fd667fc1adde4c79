// Prometheus metrics (prom-client), one registry per gateway instance so tests can run several.

import { Counter, Gauge, Registry, collectDefaultMetrics, type CounterConfiguration } from 'prom-client';
import { LabelSetHistogram } from './label-set-histogram.js';
import { keepBounded } from '../bounded-cache.js';

/** What one finished chat request adds to the metrics. */
export interface RequestSample {
  model: string;
  provider: string;
  status: 'ok' | 'error' | 'aborted' | 'timeout';
  /** The error code of a failed request. */
  code?: string;
  stream: boolean;
  seconds: number;
  firstTokenSeconds?: number;
  promptTokens: number;
  completionTokens: number;
}

type Labels = Record<string, string>;

/**
 * The label objects of one model and provider, built once: building them per request (a spread per
 * metric) tripled the cost of recording a request, and prom-client hashes an object of stable shape faster.
 */
interface LabelSets {
  base: Labels;
  byStatus: Map<string, Labels>;
  byCode: Map<string, Labels>;
  stream: Labels;
  whole: Labels;
  prompt: Labels;
  completion: Labels;
}

/** Label sets kept at most; past this (model ids are catalog entries, so never in practice) they are built per request. */
const MAX_LABEL_SETS = 1_000;

function newLabelSets(model: string, provider: string): LabelSets {
  const base = { model, provider };
  return {
    base, byStatus: new Map(), byCode: new Map(),
    stream: { ...base, stream: 'true' }, whole: { ...base, stream: 'false' },
    prompt: { ...base, kind: 'prompt' }, completion: { ...base, kind: 'completion' },
  };
}

/**
 * A counter whose increments wait in a map, by label-set object (labelsOf keeps those), until the
 * registry is read: prom-client hashes the labels into a string on every increment, which for a
 * request's four increments cost ~1 KB and ~0.8 % of the event loop. Every read of the registry (a
 * scrape) adds what waits first. Past the map's cap, label sets go to prom-client at once.
 */
function deferredCounter(config: CounterConfiguration<string>) {
  const waiting = new Map<Labels, number>();
  const counter = new Counter({
    ...config,
    collect() {
      for (const [labels, n] of waiting) this.inc(labels, n);
      waiting.clear();
    },
  });
  return {
    add(labels: Labels, n = 1): void {
      // What prom-client would refuse (it throws on a negative increment) must not wait to break a scrape.
      if (!(n >= 0 && n < Number.POSITIVE_INFINITY)) return;
      const sum = waiting.get(labels);
      if (sum !== undefined) waiting.set(labels, sum + n);
      else if (waiting.size < MAX_LABEL_SETS) waiting.set(labels, n);
      else counter.inc(labels, n);
    },
  };
}

export function createMetrics() {
  const registry = new Registry();
  const labelSets = new Map<string, LabelSets>();
  const labelsOf = (model: string, provider: string): LabelSets => {
    const id = `${model} ${provider}`;
    return labelSets.get(id) ?? keepBounded(labelSets, id, newLabelSets(model, provider), MAX_LABEL_SETS);
  };
  const withLabel = (cache: Map<string, Labels>, base: Labels, name: string, value: string): Labels =>
    cache.get(value) ?? keepBounded(cache, value, { ...base, [name]: value }, MAX_LABEL_SETS);
  collectDefaultMetrics({ register: registry });
  const labels = ['model', 'provider', 'status'] as const;
  const metrics = {
    registry,
    requests: deferredCounter({ name: 'omnigate_requests_total', help: 'Chat requests by model, provider and outcome', labelNames: labels, registers: [registry] }),
    errors: deferredCounter({ name: 'omnigate_errors_total', help: 'Failed chat requests by model, provider and error code', labelNames: ['model', 'provider', 'code'], registers: [registry] }),
    latency: new LabelSetHistogram({
      name: 'omnigate_request_duration_seconds',
      help: 'Whole request duration',
      labelNames: ['model', 'provider', 'stream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    ttft: new LabelSetHistogram({
      name: 'omnigate_time_to_first_token_seconds',
      help: 'Time from request to the first streamed chunk',
      labelNames: ['model', 'provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    tokens: deferredCounter({ name: 'omnigate_tokens_total', help: 'Tokens by model, provider and kind', labelNames: ['model', 'provider', 'kind'], registers: [registry] }),
    costNano: deferredCounter({ name: 'omnigate_cost_nano_usd_total', help: 'Charged cost in nano-USD', labelNames: ['model', 'provider'], registers: [registry] }),
    retries: new Counter({ name: 'omnigate_upstream_retries_total', help: 'Upstream attempts retried or moved to the next deployment', labelNames: ['provider', 'reason'], registers: [registry] }),
    openStreams: new Gauge({ name: 'omnigate_open_streams', help: 'Streams currently relayed to clients', registers: [registry] }),
    circuitOpen: new Gauge({ name: 'omnigate_deployment_circuit_open', help: '1 while a deployment is out of rotation after repeated failures', labelNames: ['deployment'], registers: [registry] }),
  };
  return {
    ...metrics,
    /** Records a finished chat request (requests, errors, latency, time to first token, tokens). */
    recordRequest(s: RequestSample): void {
      const sets = labelsOf(s.model, s.provider);
      metrics.requests.add(withLabel(sets.byStatus, sets.base, 'status', s.status));
      metrics.latency.observe(s.stream ? sets.stream : sets.whole, s.seconds);
      if (s.firstTokenSeconds !== undefined) metrics.ttft.observe(sets.base, s.firstTokenSeconds);
      if (s.status !== 'ok') metrics.errors.add(withLabel(sets.byCode, sets.base, 'code', s.code ?? 'unknown'));
      metrics.tokens.add(sets.prompt, s.promptTokens);
      metrics.tokens.add(sets.completion, s.completionTokens);
    },
    recordCost(model: string, provider: string, nano: number): void {
      metrics.costNano.add(labelsOf(model, provider).base, nano);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
