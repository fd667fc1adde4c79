// A Prometheus histogram that counts its observations by label-set object. prom-client's Histogram
// validates and hashes an observation's labels into a string on every observe (~0.4 KB and ~1 % of the
// event loop per request, measured at c=16), and has no way to add counts made elsewhere. metrics.ts
// keeps one label object per model, provider and stream flag, so the object itself is the key here;
// the text of the labels is built once per object, and the series are exported in the shape
// prom-client's own Histogram exports (cumulative `_bucket` lines with `le`, then `_sum`, `_count`),
// so the registry formats both alike (label-set-histogram.test.ts compares the two texts).

import type { Metric, Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface Series {
  labels: Labels;
  /** Observations per bucket (not cumulative); the last is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export interface LabelSetHistogramConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Upper bounds, ascending; an observation falls in the first bucket it is ≤ to, as in prom-client. */
  buckets: readonly number[];
  registers: Registry[];
}

export class LabelSetHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly labelNames: readonly string[];
  /** One series per distinct label values: two objects with the same labels share it. */
  private readonly byText = new Map<string, Series>();
  /** Weak: a label object built per request (past metrics.ts's caps) must not be kept by it. */
  private byObject = new WeakMap<Labels, Series>();

  constructor(config: LabelSetHistogramConfig) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = [...config.buckets];
    this.labelNames = config.labelNames;
    // The registry reads a metric through name, help, type, aggregator, get() and reset(); its type
    // lists only prom-client's own classes.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(labels: Labels, value: number): void {
    // prom-client throws on a value that is not a finite number; a metric must never fail a request.
    if (!Number.isFinite(value)) return;
    let series = this.byObject.get(labels);
    if (!series) series = this.seriesOf(labels);
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += value;
    series.count++;
  }

  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const { labels, counts, sum, count } of this.byText.values()) {
      let cumulative = 0;
      counts.forEach((n, i) => {
        cumulative += n;
        values.push({ labels: { le: i < this.bounds.length ? this.bounds[i]! : '+Inf', ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.byText.clear();
    this.byObject = new WeakMap();
  }

  private seriesOf(labels: Labels): Series {
    const text = this.labelNames.map((name) => labels[name] ?? '').join('\u0000');
    let series = this.byText.get(text);
    if (!series) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) if (labels[name] !== undefined) own[name] = labels[name];
      series = { labels: own, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.byText.set(text, series);
    }
    this.byObject.set(labels, series);
    return series;
  }
}
