import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { argumentsJson, completionId, readPart, toolCallId } from './response-types.js';

describe('readPart', () => {
  test('classifies text, thoughts, calls; a signature-only part is empty', () => {
    assert.deepEqual(readPart({ text: 'a' }), { kind: 'text', text: 'a' });
    assert.deepEqual(readPart({ text: 'a', thought: true }), { kind: 'thought', text: 'a' });
    assert.deepEqual(readPart({ functionCall: { name: 'f' } }), { kind: 'call', call: { name: 'f' } });
    assert.deepEqual(readPart({ text: '', thoughtSignature: 'sig' }), { kind: 'empty' });
    assert.deepEqual(readPart({ executableCode: {} }), { kind: 'unknown', keys: ['executableCode'] });
  });
});

describe('toolCallId', () => {
  test('deterministic per response and position, and safe for every provider', () => {
    assert.equal(toolCallId('Un6L+a/c=', 2), 'call_Un6Lac_2');
    assert.equal(toolCallId(undefined, 0), 'call_0');
    assert.match(toolCallId('x'.repeat(100), 9), /^[a-zA-Z0-9_-]{1,64}$/);
  });

  test('an id the upstream gave is kept when it is safe', () => {
    assert.equal(toolCallId('r', 0, 'fc_123'), 'fc_123');
    assert.equal(toolCallId('r', 0, 'bad id!'), 'call_r_0');
  });
});

describe('argumentsJson / completionId', () => {
  test('absent args are "{}"; ids are chatcmpl-prefixed', () => {
    assert.equal(argumentsJson(undefined), '{}');
    assert.equal(argumentsJson({ a: [1] }), '{"a":[1]}');
    assert.equal(completionId('xyz'), 'chatcmpl-xyz');
    assert.match(completionId(undefined), /^chatcmpl-[0-9a-f]{32}$/);
  });
});
