import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapOpenAIError } from './map-error.js';
import { loadJson } from '../../../test/fixtures/load.js';

test('a client error keeps OpenAI wording, param and code', () => {
  const body = loadJson('openai/chat_reasoning-model-legacy-parameter-error.json');
  const err = mapOpenAIError(400, JSON.stringify(body), {});
  assert.equal(err.status, 400);
  assert.equal(err.error.param, 'max_tokens');
  assert.equal(err.error.code, 'unsupported_parameter');
  assert.match(err.error.message, /max_completion_tokens/);
  assert.equal(err.retryable, false);
});

test('xAI gRPC-style bad-key body (HTTP 400) becomes a 502 that does not leak the key', () => {
  const err = mapOpenAIError(400, JSON.stringify({ code: 'Client specified an invalid argument', error: 'Incorrect API key provided: xai-abcdef123456***' }), {});
  assert.equal(err.status, 502);
  assert.doesNotMatch(JSON.stringify(err.error), /xai-abcdef/);
});

test('an OpenAI 401 never shows the upstream key', () => {
  const err = mapOpenAIError(401, JSON.stringify({ error: { message: 'Incorrect API key provided: sk-proj-abcdefghijkl', type: 'invalid_request_error', code: 'invalid_api_key' } }), {});
  assert.equal(err.status, 502);
  assert.equal(err.error.code, 'upstream_error');
  assert.doesNotMatch(err.error.message, /sk-proj/);
});

test('429 is retryable and carries Retry-After; insufficient_quota upstream is the operator\'s problem', () => {
  const limited = mapOpenAIError(429, JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }), { 'retry-after': '2' });
  assert.equal(limited.status, 429);
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 2000);
  const quota = mapOpenAIError(429, JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }), {});
  assert.equal(quota.status, 502);
  assert.equal(quota.retryable, false);
});

test('DeepSeek 402 and 422, 5xx and non-JSON bodies', () => {
  assert.equal(mapOpenAIError(402, JSON.stringify({ error: { message: 'Insufficient Balance' } }), {}).status, 502);
  assert.equal(mapOpenAIError(422, JSON.stringify({ error: { message: 'Invalid max_tokens' } }), {}).status, 400);
  const html = mapOpenAIError(503, '<html>bad gateway</html>', {});
  assert.equal(html.status, 503);
  assert.equal(html.retryable, true);
  assert.match(html.error.message, /503/);
});
