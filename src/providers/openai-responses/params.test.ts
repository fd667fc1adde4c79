import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest } from '../types.js';
import { convertParams, nearestEffort } from './params.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const o1pro = catalog.models.find((m) => m.id === 'o1-pro')!;
const plainModel: ModelEntry = { ...o1pro, id: 'responses-model', quirks: undefined, maxOutput: 32_768 };

function convert(extra: Partial<ChatRequest>, model = plainModel) {
  const drops: Array<[string, unknown]> = [];
  const body = convertParams({ model: model.id, messages: [{ role: 'user', content: 'hi' }], ...extra }, model, (what, detail) =>
    drops.push([what, detail]),
  );
  return { body, drops: drops.map(([what]) => what) };
}

describe('request parameters', () => {
  test('max_completion_tokens and max_tokens become max_output_tokens, the newer field winning', () => {
    assert.equal(convert({ max_tokens: 300 }).body.max_output_tokens, 300);
    assert.equal(convert({ max_completion_tokens: 500 }).body.max_output_tokens, 500);
    assert.equal(convert({ max_tokens: 300, max_completion_tokens: 500 }).body.max_output_tokens, 500);
  });

  test('max_output_tokens is raised to the Responses minimum of 16 and capped at the model maximum', () => {
    assert.equal(convert({ max_tokens: 5 }).body.max_output_tokens, 16);
    assert.equal(convert({ max_completion_tokens: 10_000_000 }).body.max_output_tokens, 32_768);
  });

  test('store is false unless the caller asks to keep the response', () => {
    assert.equal(convert({}).body.store, false);
    assert.equal(convert({ store: true }).body.store, true);
  });

  test('reasoning_effort becomes reasoning.effort; a reasoning.summary is only sent when asked for', () => {
    assert.deepEqual(convert({ reasoning_effort: 'high' }).body.reasoning, { effort: 'high' });
    assert.equal(convert({}).body.reasoning, undefined);
    assert.deepEqual(convert({ reasoning_effort: 'low', reasoning: { summary: 'auto' } }).body.reasoning, { effort: 'low', summary: 'auto' });
  });

  test('an effort the model does not accept becomes the nearest one it does', () => {
    assert.equal(nearestEffort('xhigh', ['low', 'medium', 'high']), 'high');
    assert.equal(nearestEffort('minimal', ['low', 'medium', 'high']), 'low');
    assert.equal(nearestEffort('medium', ['low', 'high']), 'high');
    assert.equal(nearestEffort('medium', undefined), 'medium');
    const strict = { ...plainModel, quirks: { reasoningEfforts: ['low', 'medium', 'high'] } };
    assert.deepEqual(convert({ reasoning_effort: 'xhigh' }, strict).body.reasoning, { effort: 'high' });
  });

  test('response_format json_schema is flattened into text.format', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const { body } = convert({ response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } } });
    assert.deepEqual(body.text, { format: { type: 'json_schema', name: 'place', description: undefined, schema, strict: true } });
    assert.deepEqual(convert({ response_format: { type: 'json_object' } }).body.text, { format: { type: 'json_object' } });
  });

  test('user becomes safety_identifier; parallel_tool_calls and metadata pass through', () => {
    const { body } = convert({ user: 'user-42', parallel_tool_calls: false, metadata: { team: 'a' } });
    assert.equal(body.safety_identifier, 'user-42');
    assert.equal(body.user, undefined);
    assert.equal(body.parallel_tool_calls, false);
    assert.deepEqual(body.metadata, { team: 'a' });
  });

  test('fields without a Responses equivalent are dropped and reported', () => {
    const { body, drops } = convert({ seed: 7, stop: ['END'], n: 2, logit_bias: { '50256': -100 } });
    for (const field of ['seed', 'stop', 'n', 'logit_bias']) {
      assert.equal(body[field], undefined);
      assert.ok(drops.includes(`param ${field}`), `${field} reported`);
    }
    assert.deepEqual(convert({ n: 1 }).drops, [], 'n: 1 is the default, nothing lost');
  });

  test('o1-pro: the catalog dropParams remove temperature, top_p and the penalties', () => {
    const { body, drops } = convert({ temperature: 0.2, top_p: 0.9, presence_penalty: 1, max_tokens: 100 }, o1pro);
    assert.equal(body.temperature, undefined);
    assert.equal(body.top_p, undefined);
    assert.equal(body.presence_penalty, undefined);
    assert.equal(body.max_output_tokens, 100);
    assert.ok(drops.includes('param temperature') && drops.includes('param top_p'));
  });

  test('a model without dropParams keeps temperature and top_p', () => {
    const { body } = convert({ temperature: 0.2, top_p: 0.9 });
    assert.equal(body.temperature, 0.2);
    assert.equal(body.top_p, 0.9);
  });

  test('messages, tools and streaming fields are left to the other converters', () => {
    const { body, drops } = convert({ stream: true, stream_options: { include_usage: true }, tool_choice: 'auto' });
    assert.deepEqual(Object.keys(body), ['store']);
    assert.deepEqual(drops, []);
  });
});
