import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../types.js';
import { mapAnthropicError, mapAnthropicStreamError } from './map-error.js';

const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });

describe('mapAnthropicError', () => {
  test('400 invalid_request_error stays a 400 with the upstream message', () => {
    const err = mapAnthropicError(400, body('invalid_request_error', 'messages: text content blocks must be non-empty'), {});
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 400);
    assert.deepEqual(err.error, { message: 'messages: text content blocks must be non-empty', type: 'invalid_request_error', param: null, code: null });
    assert.equal(err.retryable, false);
  });

  test('529 overloaded_error is a retryable 503', () => {
    const err = mapAnthropicError(529, body('overloaded_error', 'Overloaded'), { 'retry-after': '3' });
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 3000);
    assert.equal(err.error.message, 'Overloaded');
  });

  test('401 is the gateway key being rejected: 502, and the key never reaches the client', () => {
    const err = mapAnthropicError(401, body('authentication_error', 'invalid x-api-key sk-ant-api03-abcdefghijklmnop'), {});
    assert.equal(err.status, 502);
    assert.equal(err.error.type, 'upstream_error');
    assert.doesNotMatch(JSON.stringify(err.error), /sk-ant|x-api-key/);
  });

  test('403 permission_error is also the operator key: 502', () => {
    assert.equal(mapAnthropicError(403, body('permission_error', 'Your API key does not have permission'), {}).status, 502);
  });

  test('404 not_found_error is model_not_found', () => {
    const err = mapAnthropicError(404, body('not_found_error', 'model: claude-9'), {});
    assert.equal(err.status, 404);
    assert.equal(err.error.code, 'model_not_found');
  });

  test('429 rate_limit_error passes retry-after on', () => {
    const err = mapAnthropicError(429, body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), { 'retry-after': '12' });
    assert.equal(err.status, 429);
    assert.equal(err.error.code, 'rate_limit_exceeded');
    assert.equal(err.retryAfterMs, 12000);
    assert.equal(err.retryable, true);
  });

  test('413 request_too_large is a 413 for the client', () => {
    const err = mapAnthropicError(413, body('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), {});
    assert.equal(err.status, 413);
    assert.equal(err.error.code, 'request_too_large');
    assert.equal(err.retryable, false);
  });

  test('500 api_error and 504 timeout_error are retryable upstream failures', () => {
    const api = mapAnthropicError(500, body('api_error', 'Internal server error'), {});
    assert.equal(api.status, 502);
    assert.equal(api.retryable, true);
    const timeout = mapAnthropicError(504, body('timeout_error', 'Request timed out'), {});
    assert.equal(timeout.status, 504);
    assert.equal(timeout.error.code, 'upstream_timeout');
  });

  test('402 billing_error is the operator account being empty, not the caller: 502', () => {
    const err = mapAnthropicError(402, body('billing_error', 'Your credit balance is too low'), {});
    assert.equal(err.status, 502);
    assert.equal(err.retryable, false);
  });

  test('prompt too long becomes context_length_exceeded in OpenAI wording', () => {
    const err = mapAnthropicError(400, body('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'), {});
    assert.equal(err.status, 400);
    assert.equal(err.error.code, 'context_length_exceeded');
    assert.match(err.error.message, /maximum context length is 200000 tokens\. However, your messages resulted in 210000 tokens/);
  });

  test('a non-JSON body (a proxy error page) is mapped by status', () => {
    const err = mapAnthropicError(502, '<html><body>Bad gateway</body></html>', {});
    assert.equal(err.status, 502);
    assert.equal(err.retryable, true);
    assert.equal(mapAnthropicError(413, '<html>413 Request Entity Too Large</html>', {}).status, 413);
  });
});

describe('mapAnthropicStreamError', () => {
  test('an overloaded error event after a 200 is a 503', () => {
    const err = mapAnthropicStreamError({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    assert.equal(err.status, 503);
    assert.equal(err.error.message, 'Overloaded');
  });

  test('an error event of unknown shape is still a ProviderError', () => {
    const err = mapAnthropicStreamError({ type: 'error' });
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 502);
  });
});
