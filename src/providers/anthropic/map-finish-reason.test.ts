import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mapFinishReason } from './map-finish-reason.js';

describe('mapFinishReason', () => {
  test('maps every documented stop reason', () => {
    assert.equal(mapFinishReason('end_turn'), 'stop');
    assert.equal(mapFinishReason('stop_sequence'), 'stop');
    assert.equal(mapFinishReason('pause_turn'), 'stop');
    assert.equal(mapFinishReason('max_tokens'), 'length');
    assert.equal(mapFinishReason('model_context_window_exceeded'), 'length');
    assert.equal(mapFinishReason('tool_use'), 'tool_calls');
    assert.equal(mapFinishReason('refusal'), 'content_filter');
  });

  test('an unknown or missing stop reason becomes stop and is reported', () => {
    const drops: unknown[] = [];
    assert.equal(mapFinishReason('brand_new_reason', (what, detail) => drops.push({ what, detail })), 'stop');
    assert.equal(mapFinishReason(null, (what, detail) => drops.push({ what, detail })), 'stop');
    assert.equal(drops.length, 2);
    assert.deepEqual((drops[0] as any).detail.value, 'brand_new_reason');
  });

  test('does not mistake inherited object keys for stop reasons', () => {
    assert.equal(mapFinishReason('toString'), 'stop');
  });
});
