import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mapFinishReason, promptBlockReason } from './map-finish-reason.js';

describe('mapFinishReason', () => {
  test('STOP is stop, or tool_calls when the turn called functions (Gemini has no tool reason)', () => {
    assert.equal(mapFinishReason('STOP', false), 'stop');
    assert.equal(mapFinishReason('STOP', true), 'tool_calls');
    assert.equal(mapFinishReason(undefined, true), 'tool_calls');
  });

  test('MAX_TOKENS is length', () => {
    assert.equal(mapFinishReason('MAX_TOKENS', false), 'length');
  });

  test('safety-type reasons are content_filter', () => {
    for (const r of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) {
      assert.equal(mapFinishReason(r, false), 'content_filter', r);
    }
  });

  test('reasons OpenAI has no word for end as stop and are reported', () => {
    const seen: string[] = [];
    assert.equal(mapFinishReason('MALFORMED_FUNCTION_CALL', false, (r) => seen.push(r)), 'stop');
    assert.equal(mapFinishReason('SOMETHING_NEW', false, (r) => seen.push(r)), 'stop');
    assert.deepEqual(seen, ['MALFORMED_FUNCTION_CALL', 'SOMETHING_NEW']);
  });
});

describe('promptBlockReason', () => {
  test('a blocked prompt has feedback and no candidates', () => {
    assert.equal(promptBlockReason({ promptFeedback: { blockReason: 'SAFETY' } }), 'SAFETY');
    assert.equal(promptBlockReason({ promptFeedback: { blockReason: 'OTHER' }, candidates: [] }), 'OTHER');
    assert.equal(promptBlockReason({ candidates: [{}], promptFeedback: {} }), undefined);
  });
});
