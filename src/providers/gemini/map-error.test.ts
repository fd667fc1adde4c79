import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson } from '../../../test/fixtures/load.js';
import { googleError, mapGeminiError, retryDelayMs } from './map-error.js';

const envelope = (code: number, status: string, message: string, details?: unknown[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

describe('mapGeminiError', () => {
  test('recorded RESOURCE_EXHAUSTED → 429 rate_limit_exceeded, retry from RetryInfo (34.4s)', () => {
    const body = JSON.stringify(loadJson('google/google-429-retry-info.json'));
    const err = mapGeminiError(429, body, {});
    assert.equal(err.status, 429);
    assert.equal(err.error.code, 'rate_limit_exceeded');
    assert.equal(err.error.message, 'You exceeded your current quota, please check your plan.');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 34_400);
  });

  test('a Retry-After header wins over the body hint', () => {
    const body = JSON.stringify(loadJson('google/google-429-retry-info.json'));
    assert.equal(mapGeminiError(429, body, { 'retry-after': '3' }).retryAfterMs, 3000);
  });

  test('INVALID_ARGUMENT → 400 invalid_request_error with the upstream message and field', () => {
    const err = mapGeminiError(
      400,
      envelope(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "foo"', [
        { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'tools[0].function_declarations[0].parameters', description: 'x' }] },
      ]),
      {},
    );
    assert.equal(err.status, 400);
    assert.equal(err.error.type, 'invalid_request_error');
    assert.match(err.error.message, /Unknown name "foo"/);
    assert.equal(err.error.param, 'tools[0].function_declarations[0].parameters');
    assert.equal(err.retryable, false);
  });

  test('an invalid key (400 API_KEY_INVALID) is the gateway credential: 502, key never echoed', () => {
    const err = mapGeminiError(
      400,
      envelope(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]),
      {},
    );
    assert.equal(err.status, 502);
    assert.equal(err.error.type, 'upstream_error');
    assert.doesNotMatch(err.error.message, /API key not valid/);
  });

  test('PERMISSION_DENIED / UNAUTHENTICATED → 502 (operator problem, not the caller)', () => {
    assert.equal(mapGeminiError(403, envelope(403, 'PERMISSION_DENIED', 'no access'), {}).status, 502);
    assert.equal(mapGeminiError(401, envelope(401, 'UNAUTHENTICATED', 'no'), {}).status, 502);
  });

  test('NOT_FOUND → 404 model_not_found', () => {
    const err = mapGeminiError(404, envelope(404, 'NOT_FOUND', 'models/gemini-1.5-pro is not found for API version v1beta'), {});
    assert.equal(err.status, 404);
    assert.equal(err.error.code, 'model_not_found');
  });

  test('INTERNAL → 502, UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504; all retryable', () => {
    const internal = mapGeminiError(500, envelope(500, 'INTERNAL', 'An internal error has occurred.'), {});
    const unavailable = mapGeminiError(503, envelope(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'), {});
    const deadline = mapGeminiError(504, envelope(504, 'DEADLINE_EXCEEDED', 'Deadline expired.'), {});
    assert.deepEqual([internal.status, unavailable.status, deadline.status], [502, 503, 504]);
    assert.ok(internal.retryable && unavailable.retryable && deadline.retryable);
  });

  test('context overflow reads like OpenAI so clients recognise it', () => {
    const err = mapGeminiError(400, envelope(400, 'INVALID_ARGUMENT', 'The input token count (2100000) exceeds the maximum number of tokens allowed (2097152).'), {});
    assert.equal(err.status, 400);
    assert.equal(err.error.code, 'context_length_exceeded');
    assert.match(err.error.message, /maximum context length is 2097152 tokens/);
  });

  test('a body that is not JSON still maps by status, and keys in it are redacted', () => {
    const err = mapGeminiError(502, '<html>Bad gateway key=AIzaSyA1234567890abcdefghijk</html>', {});
    assert.equal(err.status, 502);
    assert.doesNotMatch(err.error.message, /AIza/);
  });

  test('a non-SSE stream error comes wrapped in an array', () => {
    assert.equal(mapGeminiError(429, `[${envelope(429, 'RESOURCE_EXHAUSTED', 'slow down')}]`, {}).status, 429);
  });
});

describe('googleError (mid-stream error events)', () => {
  test('takes the status from the body when there is no HTTP status', () => {
    assert.equal(googleError(undefined, { code: 503, status: 'UNAVAILABLE', message: 'overloaded' }).status, 503);
    assert.equal(googleError(undefined, { code: 400, status: 'INVALID_ARGUMENT', message: 'bad' }).status, 400);
  });

  test('retryDelayMs reads protobuf durations', () => {
    assert.equal(retryDelayMs({ details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }] }), 2000);
    assert.equal(retryDelayMs({ details: [] }), undefined);
  });
});
