import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertToolChoice, convertTools } from './convert-tools.js';

describe('tools', () => {
  test('function tools are flattened, strict defaults to false as in Chat Completions', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    assert.deepEqual(
      convertTools([
        { type: 'function', function: { name: 'weather', description: 'Weather for a city', parameters } },
        { type: 'function', function: { name: 'now', strict: true } },
      ]),
      [
        { type: 'function', name: 'weather', description: 'Weather for a city', parameters, strict: false },
        { type: 'function', name: 'now', parameters: { type: 'object', properties: {} }, strict: true },
      ],
    );
  });
});

describe('tool_choice', () => {
  const noDrop = () => assert.fail('nothing should be dropped');

  test('string forms pass through', () => {
    for (const choice of ['none', 'auto', 'required'] as const) assert.equal(convertToolChoice(choice, noDrop), choice);
  });

  test('a named function loses its nested function object', () => {
    assert.deepEqual(convertToolChoice({ type: 'function', function: { name: 'weather' } }, noDrop), { type: 'function', name: 'weather' });
  });

  test('allowed_tools is flattened the same way', () => {
    const choice = { type: 'allowed_tools' as const, allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'a' } }] } };
    assert.deepEqual(convertToolChoice(choice, noDrop), { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'a' }] });
  });

  test('an unknown form is dropped and reported', () => {
    const drops: string[] = [];
    assert.equal(convertToolChoice({ type: 'custom' } as never, (what) => drops.push(what)), undefined);
    assert.deepEqual(drops, ['tool_choice']);
  });
});
