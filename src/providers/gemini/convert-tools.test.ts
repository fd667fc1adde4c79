import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionTool } from '../types.js';
import { convertTools } from './convert-tools.js';

const weather: FunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { city: { type: 'string', title: 'City' } },
      required: ['city'],
      additionalProperties: false,
    },
    strict: true,
  },
};
const now: FunctionTool = { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } };

function drops() {
  const seen: Array<[string, unknown]> = [];
  return { seen, onDrop: (what: string, detail?: unknown) => void seen.push([what, detail]) };
}

describe('convertTools', () => {
  test('function tools become one functionDeclarations list with cleaned schemas', () => {
    const d = drops();
    const out = convertTools([weather, now], undefined, d.onDrop);
    assert.deepEqual(out.tools, [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
          // No parameters at all: Gemini rejects an OBJECT schema with no properties.
          { name: 'now' },
        ],
      },
    ]);
    assert.equal(out.toolConfig, undefined, 'no tool_choice leaves Gemini on its AUTO default');
    assert.ok(d.seen.some(([what]) => what === 'tool schema keywords'));
    assert.ok(d.seen.some(([what]) => what === 'tool strict'));
  });

  test('tool_choice modes', () => {
    const noop = () => {};
    assert.deepEqual(convertTools([weather], 'auto', noop).toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(convertTools([weather], 'none', noop).toolConfig, { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(convertTools([weather], 'required', noop).toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(convertTools([weather, now], { type: 'function', function: { name: 'now' } }, noop).toolConfig, {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] },
    });
  });

  test('a named tool_choice for an unknown tool still forces a call, and says so', () => {
    const d = drops();
    const out = convertTools([weather], { type: 'function', function: { name: 'missing' } }, d.onDrop);
    assert.deepEqual(out.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    assert.ok(d.seen.some(([what]) => what === 'tool_choice'));
  });

  test('no tools means neither tools nor toolConfig is sent', () => {
    const d = drops();
    assert.deepEqual(convertTools(undefined, 'required', d.onDrop), {});
    assert.deepEqual(d.seen.map(([w]) => w), ['tool_choice']);
    assert.deepEqual(convertTools([], undefined, d.onDrop), {});
  });

  test('non-function tools are dropped and reported', () => {
    const d = drops();
    const out = convertTools([{ type: 'web_search' } as unknown as FunctionTool, weather], undefined, d.onDrop);
    assert.equal(out.tools![0].functionDeclarations.length, 1);
    assert.equal(d.seen[0][0], 'tool');
  });
});
