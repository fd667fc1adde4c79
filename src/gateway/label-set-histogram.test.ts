import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { LabelSetHistogram } from './label-set-histogram.js';

const CONFIG = { name: 'x_seconds', help: 'How long', labelNames: ['model', 'stream'], buckets: [0.005, 0.01, 0.5, 1] };
const FAST = { model: 'gpt-4o', stream: 'false' };
const SLOW = { model: 'gpt-4o', stream: 'true' };
// On a bound, just past one, below the first, past the last, and a repeat.
const OBSERVED: Array<[typeof FAST, number]> = [[FAST, 0.005], [FAST, 0.0051], [FAST, 0.001], [SLOW, 3], [SLOW, 0.5], [FAST, 0.005]];

test("the registry's text of a label-set histogram is prom-client's own histogram's, for the same observations", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const histogram = new LabelSetHistogram({ ...CONFIG, registers: [ours] });
  const reference = new Histogram({ ...CONFIG, registers: [theirs] });
  for (const [labels, value] of OBSERVED) {
    histogram.observe(labels, value);
    reference.observe(labels, value);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /^x_seconds_bucket\{le="0\.01",model="gpt-4o",stream="false"\} 4$/m);
  assert.match(text, /^x_seconds_bucket\{le="\+Inf",model="gpt-4o",stream="true"\} 2$/m);
});

test('label objects with the same values share one series; a value prom-client would refuse is dropped; reset starts over', async () => {
  const registry = new Registry();
  const histogram = new LabelSetHistogram({ ...CONFIG, registers: [registry] });
  histogram.observe(FAST, 0.2);
  histogram.observe({ ...FAST }, 0.2);
  histogram.observe(FAST, Number.NaN);
  histogram.observe(FAST, Number.POSITIVE_INFINITY);
  let text = await registry.metrics();
  assert.match(text, /^x_seconds_count\{model="gpt-4o",stream="false"\} 2$/m);
  assert.match(text, /^x_seconds_sum\{model="gpt-4o",stream="false"\} 0\.4$/m);
  assert.equal(text.match(/^x_seconds_count/gm)?.length, 1);

  registry.resetMetrics();
  histogram.observe(FAST, 0.2);
  text = await registry.metrics();
  assert.match(text, /^x_seconds_count\{model="gpt-4o",stream="false"\} 1$/m);
});
