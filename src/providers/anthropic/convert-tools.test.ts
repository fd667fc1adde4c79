import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest, FunctionTool } from '../types.js';
import { convertTools } from './convert-tools.js';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const catalogModel = (id: string): ModelEntry => catalog.models.find((m) => m.id === id)!;

const weather: FunctionTool = {
  type: 'function',
  function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

function convert(req: Partial<ChatRequest>, modelId = 'claude-sonnet-4-6') {
  const model = catalogModel(modelId);
  const drops: string[] = [];
  const plan = convertTools({ model: modelId, messages: [], ...req }, { model, upstreamModel: model.upstreamModel, onDrop: (w) => drops.push(w) });
  return { ...plan, drops };
}

describe('convertTools', () => {
  test('function tools become Anthropic tools with input_schema', () => {
    const { tools, tool_choice, forcedTool } = convert({ tools: [weather] });
    assert.deepEqual(tools, [{ name: 'weather', description: 'Current weather', input_schema: weather.function.parameters }]);
    assert.equal(tool_choice, undefined, 'auto is Anthropic’s default');
    assert.equal(forcedTool, false);
  });

  test('a tool without parameters gets an empty object schema', () => {
    const { tools } = convert({ tools: [{ type: 'function', function: { name: 'now' } }, { type: 'function', function: { name: 'ping', parameters: {} } }] });
    assert.deepEqual(tools?.map((t) => t.input_schema), [{ type: 'object', properties: {} }, { type: 'object', properties: {} }]);
  });

  test('tool_choice forms', () => {
    assert.deepEqual(convert({ tools: [weather], tool_choice: 'auto' }).tool_choice, { type: 'auto' });
    assert.deepEqual(convert({ tools: [weather], tool_choice: 'none' }).tool_choice, { type: 'none' });
    assert.deepEqual(convert({ tools: [weather], tool_choice: 'required' }).tool_choice, { type: 'any' });
    assert.deepEqual(convert({ tools: [weather], tool_choice: { type: 'function', function: { name: 'weather' } } }).tool_choice, { type: 'tool', name: 'weather' });
    assert.equal(convert({ tools: [weather], tool_choice: 'required' }).forcedTool, true);
    assert.equal(convert({ tools: [weather], tool_choice: { type: 'function', function: { name: 'weather' } } }).forcedTool, true);
  });

  test('parallel_tool_calls:false → disable_parallel_tool_use on the choice (auto when absent)', () => {
    assert.deepEqual(convert({ tools: [weather], parallel_tool_calls: false }).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(convert({ tools: [weather], tool_choice: 'required', parallel_tool_calls: false }).tool_choice, { type: 'any', disable_parallel_tool_use: true });
    assert.deepEqual(convert({ tools: [weather], tool_choice: 'none', parallel_tool_calls: false }).tool_choice, { type: 'none' });
    assert.equal(convert({ tools: [weather], parallel_tool_calls: true }).tool_choice, undefined);
  });

  test('strict is kept on models with strict tool use and reported elsewhere', () => {
    const strictTool: FunctionTool = { ...weather, function: { ...weather.function, strict: true } };
    assert.equal(convert({ tools: [strictTool] }).tools?.[0].strict, true);
    const old = convert({ tools: [strictTool] }, 'claude-sonnet-4-20250514');
    assert.equal(old.tools?.[0].strict, undefined);
    assert.deepEqual(old.drops, ['tools[].function.strict']);
  });

  test('tool_choice without tools is dropped (Anthropic rejects it)', () => {
    const plan = convert({ tool_choice: 'required' });
    assert.equal(plan.tools, undefined);
    assert.equal(plan.tool_choice, undefined);
    assert.deepEqual(plan.drops, ['tool_choice']);
  });
});
