import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapFinishReason } from './map-finish-reason.js';

const none = { hasToolCalls: false, hasRefusal: false };

test('completed → stop; with function calls → tool_calls; with a refusal → content_filter', () => {
  assert.equal(mapFinishReason({ status: 'completed', ...none }), 'stop');
  assert.equal(mapFinishReason({ status: 'completed', ...none, hasToolCalls: true }), 'tool_calls');
  assert.equal(mapFinishReason({ status: 'completed', ...none, hasRefusal: true }), 'content_filter');
});

test('incomplete because of max_output_tokens → length, even inside a tool call', () => {
  assert.equal(mapFinishReason({ status: 'incomplete', incompleteReason: 'max_output_tokens', ...none }), 'length');
  assert.equal(mapFinishReason({ status: 'incomplete', incompleteReason: 'max_output_tokens', ...none, hasToolCalls: true }), 'length');
});

test('incomplete because of the content filter → content_filter', () => {
  assert.equal(mapFinishReason({ status: 'incomplete', incompleteReason: 'content_filter', ...none }), 'content_filter');
});

test('a stream that ended without a status still finishes', () => {
  assert.equal(mapFinishReason({ status: undefined, ...none }), 'stop');
});
