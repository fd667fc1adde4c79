import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson } from '../../../test/fixtures/load.js';
import { mapResponsesError, mapResponsesFailure } from './map-error.js';

const quota = JSON.stringify(loadJson('openai/responses_openai-error.1.json'));
const temperature = JSON.stringify(loadJson('openai/responses_reasoning-model-temperature-error.json'));

describe('HTTP errors', () => {
  test('insufficient_quota (429) is the upstream account\'s problem: 502, not retryable', () => {
    const error = mapResponsesError(429, quota, {});
    assert.equal(error.status, 502);
    assert.equal(error.retryable, false);
    assert.equal(error.error.code, 'upstream_error');
  });

  test('a plain 429 is a retryable rate limit honouring Retry-After', () => {
    const body = JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded', param: null } });
    const error = mapResponsesError(429, body, { 'retry-after': '3' });
    assert.equal(error.status, 429);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 3000);
  });

  test('400 keeps the upstream message, param and code for the client', () => {
    const error = mapResponsesError(400, temperature, {});
    assert.equal(error.status, 400);
    assert.equal(error.error.type, 'invalid_request_error');
    assert.equal(error.error.param, 'temperature');
    assert.match(error.error.message, /temperature/);
  });

  test('500 → 502 retryable; 401 → 502 without the rejected key', () => {
    const server = mapResponsesError(500, JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }), {});
    assert.equal(server.status, 502);
    assert.equal(server.retryable, true);
    const auth = mapResponsesError(401, JSON.stringify({ error: { message: 'Incorrect API key provided: sk-live-abcdef123456', code: 'invalid_api_key' } }), {});
    assert.equal(auth.status, 502);
    assert.doesNotMatch(JSON.stringify(auth.error), /sk-live/);
  });

  test('a non-JSON body (a proxy error page) still maps by status', () => {
    const error = mapResponsesError(503, '<html>Service Unavailable</html>', {});
    assert.equal(error.status, 503);
    assert.equal(error.retryable, true);
  });
});

describe('failures inside a 200 (stream error events, failed responses)', () => {
  test('server_error → 502 retryable', () => {
    const error = mapResponsesFailure({ code: 'server_error', message: 'The server had an error' });
    assert.equal(error.status, 502);
    assert.equal(error.retryable, true);
  });

  test('invalid_prompt → 400 with the upstream code', () => {
    const error = mapResponsesFailure({ code: 'invalid_prompt', message: 'Invalid prompt: flagged' });
    assert.equal(error.status, 400);
    assert.equal(error.error.code, 'invalid_prompt');
  });

  test('rate_limit_exceeded → 429; insufficient_quota → 502', () => {
    assert.equal(mapResponsesFailure({ code: 'rate_limit_exceeded', message: 'slow down' }).status, 429);
    assert.equal(mapResponsesFailure({ code: 'insufficient_quota', message: 'quota' }).status, 502);
  });
});
