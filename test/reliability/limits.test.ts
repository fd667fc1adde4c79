// The request limits on their own: message count, image size, JSON depth.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateChatRequest } from '../../src/gateway/validate-request.js';
import { GatewayError } from '../../src/gateway/errors.js';
import { IMAGE_MAX_BYTES } from '../../src/gateway/inline-images.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../../src/server/app.js';

function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('request limits', () => {
  test('more messages than the limit is a 400 naming the limit, checked before anything else', () => {
    const messages = Array.from({ length: 11 }, () => ({ role: 'user', content: 'hi' }));
    assert.equal(validateChatRequest({ model: 'gpt-4o', messages: messages.slice(0, 10) }, 10).messages.length, 10);
    const err = refusal(() => validateChatRequest({ model: 'gpt-4o', messages }, 10));
    assert.equal(err.status, 400);
    assert.equal(err.error.param, 'messages');
    assert.equal(err.error.code, 'array_above_max_length');
    assert.match(err.error.message, /at most 10 items, got 11/);
  });

  test('an image larger than the image cap is refused by size, a smaller one passes', () => {
    const image = (bytes: number) => ({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(Math.ceil(bytes / 3) * 4)}` } }] }],
    });
    assert.ok(validateChatRequest(image(1024 * 1024)));
    const err = refusal(() => validateChatRequest(image(IMAGE_MAX_BYTES + 64 * 1024)));
    assert.equal(err.status, 400);
    assert.match(err.error.message, /images are limited to 20 MB/);
    assert.equal(err.error.param, 'messages[0].content[0].image_url.url');
  });

  test('JSON depth is measured without recursion, whatever the depth', () => {
    const nest = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
      return value;
    };
    assert.equal(nestedDeeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
    assert.equal(nestedDeeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
    assert.equal(nestedDeeperThan(nest(200_000), MAX_JSON_DEPTH), true);
    assert.equal(nestedDeeperThan({ wide: Array.from({ length: 10_000 }, () => ({ a: [1] })) }, MAX_JSON_DEPTH), false);
  });
});
