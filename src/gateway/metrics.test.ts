import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, type RequestSample } from './metrics.js';
import { sample } from '../../test/reliability/support.js';

const OK: RequestSample = { model: 'gpt-4o-mini', provider: 'openai', status: 'ok', stream: false, seconds: 0.01, promptTokens: 12, completionTokens: 5 };
const LABELS = { model: 'gpt-4o-mini', provider: 'openai' };

test('counter increments waiting for a scrape are added once: what came after a scrape is in the next one', async () => {
  const metrics = createMetrics();
  metrics.recordRequest(OK);
  metrics.recordRequest({ ...OK, status: 'error', code: 'upstream_error', promptTokens: 3, completionTokens: 0 });
  metrics.recordCost('gpt-4o-mini', 'openai', 1_500);
  let text = await metrics.registry.metrics();
  assert.equal(sample(text, 'omnigate_requests_total', { ...LABELS, status: 'ok' }), 1);
  assert.equal(sample(text, 'omnigate_requests_total', { ...LABELS, status: 'error' }), 1);
  assert.equal(sample(text, 'omnigate_errors_total', { ...LABELS, code: 'upstream_error' }), 1);
  assert.equal(sample(text, 'omnigate_tokens_total', { ...LABELS, kind: 'prompt' }), 15);
  assert.equal(sample(text, 'omnigate_tokens_total', { ...LABELS, kind: 'completion' }), 5);
  assert.equal(sample(text, 'omnigate_cost_nano_usd_total', LABELS), 1_500);

  metrics.recordRequest(OK);
  metrics.recordCost('gpt-4o-mini', 'openai', 500);
  text = await metrics.registry.metrics();
  assert.equal(sample(text, 'omnigate_requests_total', { ...LABELS, status: 'ok' }), 2);
  assert.equal(sample(text, 'omnigate_tokens_total', { ...LABELS, kind: 'prompt' }), 27);
  assert.equal(sample(text, 'omnigate_cost_nano_usd_total', LABELS), 2_000);
  // Nothing new: a third read changes nothing.
  assert.equal(sample(await metrics.registry.metrics(), 'omnigate_requests_total', { ...LABELS, status: 'ok' }), 2);
});

test('an increment prom-client would refuse is dropped at once instead of breaking every later scrape', async () => {
  const metrics = createMetrics();
  metrics.recordCost('gpt-4o-mini', 'openai', -1);
  metrics.recordCost('gpt-4o-mini', 'openai', Number.NaN);
  metrics.recordCost('gpt-4o-mini', 'openai', 700);
  const text = await metrics.registry.metrics();
  assert.equal(sample(text, 'omnigate_cost_nano_usd_total', LABELS), 700);
});
