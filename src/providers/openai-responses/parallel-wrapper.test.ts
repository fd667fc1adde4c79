import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declaresParallelTool, expandParallelWrapper } from './parallel-wrapper.js';

test('the wrapper expands into one call per tool use, names without the functions. prefix', () => {
  const args = JSON.stringify({
    tool_uses: [
      { recipient_name: 'functions.weather', parameters: { location: 'San Francisco' } },
      { recipient_name: 'functions.cityAttractions', parameters: { city: 'Rome' } },
    ],
  });
  assert.deepEqual(expandParallelWrapper('call_p', args), [
    { id: 'call_p_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } },
    { id: 'call_p_1', type: 'function', function: { name: 'cityAttractions', arguments: '{"city":"Rome"}' } },
  ]);
});

test('arguments of another shape are not a wrapper', () => {
  assert.equal(expandParallelWrapper('c', '{"query":"x"}'), undefined);
  assert.equal(expandParallelWrapper('c', '{"tool_uses":[{"parameters":{}}]}'), undefined);
  assert.equal(expandParallelWrapper('c', 'not json'), undefined);
});

test('a declared tool named parallel is a real tool', () => {
  assert.equal(declaresParallelTool([{ type: 'function', name: 'parallel' }]), true);
  assert.equal(declaresParallelTool([]), false);
  assert.equal(declaresParallelTool(undefined), false);
});
