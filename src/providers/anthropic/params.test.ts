import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../types.js';
import { applyModelSamplingRules, applyThinkingRules, claudeVersion, mapSamplingParams, responseFormatFor, thinkingFor, type ParamContext } from './params.js';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const catalogModel = (id: string): ModelEntry => catalog.models.find((m) => m.id === id)!;

function ctxFor(modelId: string, drops: string[] = []): ParamContext {
  const model = catalogModel(modelId);
  return { model, upstreamModel: model.upstreamModel, onDrop: (w) => drops.push(w) };
}
const req = (fields: Partial<ChatRequest>): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...fields });
const noBlockers = { forcedTool: false, continuesToolLoop: false };

describe('mapSamplingParams', () => {
  test('max_tokens defaults to the model max output', () => {
    assert.equal(mapSamplingParams(req({}), ctxFor('claude-sonnet-4-6')).max_tokens, 128000);
    assert.equal(mapSamplingParams(req({}), ctxFor('claude-3-opus-20240229')).max_tokens, 4096);
  });

  test('max_completion_tokens wins over max_tokens; above the model cap it is clamped and reported', () => {
    assert.equal(mapSamplingParams(req({ max_tokens: 100, max_completion_tokens: 200 }), ctxFor('claude-sonnet-4-6')).max_tokens, 200);
    const drops: string[] = [];
    assert.equal(mapSamplingParams(req({ max_tokens: 10000 }), ctxFor('claude-3-5-sonnet-20241022', drops)).max_tokens, 8192);
    assert.deepEqual(drops, ['max_tokens']);
  });

  test('temperature is clamped to 0–1, not halved', () => {
    const drops: string[] = [];
    assert.equal(mapSamplingParams(req({ temperature: 1.7 }), ctxFor('claude-sonnet-4-6', drops)).temperature, 1);
    assert.equal(mapSamplingParams(req({ temperature: 0.7 }), ctxFor('claude-sonnet-4-6')).temperature, 0.7);
    assert.deepEqual(drops, ['temperature']);
  });

  test('top_p, top_k, stop, user', () => {
    const out = mapSamplingParams(req({ top_p: 0.9, top_k: 40, stop: ['END', ' ', ''], user: 'user-42' }), ctxFor('claude-sonnet-4-6'));
    assert.equal(out.top_p, 0.9);
    assert.equal(out.top_k, 40);
    assert.deepEqual(out.stop_sequences, ['END'], 'whitespace-only stop sequences are rejected by Anthropic');
    assert.deepEqual(out.metadata, { user_id: 'user-42' });
    assert.deepEqual(mapSamplingParams(req({ stop: 'STOP' }), ctxFor('claude-sonnet-4-6')).stop_sequences, ['STOP']);
  });

  test('fields Anthropic has no equivalent for are dropped and reported', () => {
    const drops: string[] = [];
    const out = mapSamplingParams(req({ n: 2, seed: 7, logprobs: true, presence_penalty: 0.5, frequency_penalty: 0, store: true } as any), ctxFor('claude-sonnet-4-6', drops));
    assert.deepEqual(Object.keys(out), ['max_tokens']);
    assert.deepEqual(drops.sort(), ['logprobs', 'n', 'presence_penalty', 'seed', 'store'].sort());
  });
});

describe('applyModelSamplingRules', () => {
  test('4.1+ models reject temperature with top_p: top_p is dropped', () => {
    const drops: string[] = [];
    const body = { max_tokens: 10, temperature: 0.5, top_p: 0.9 };
    applyModelSamplingRules(body, ctxFor('claude-sonnet-4-5-20250929', drops));
    assert.deepEqual(body, { max_tokens: 10, temperature: 0.5 });
    assert.deepEqual(drops, ['top_p']);
  });

  test('older models keep both', () => {
    const body = { max_tokens: 10, temperature: 0.5, top_p: 0.9 };
    applyModelSamplingRules(body, ctxFor('claude-3-5-sonnet-20241022'));
    assert.deepEqual(body, { max_tokens: 10, temperature: 0.5, top_p: 0.9 });
  });

  test('claudeVersion reads both naming schemes', () => {
    assert.equal(claudeVersion('claude-opus-4-6'), 4.6);
    assert.equal(claudeVersion('claude-sonnet-4-5-20250929'), 4.5);
    assert.equal(claudeVersion('claude-sonnet-4-20250514'), 4);
    assert.equal(claudeVersion('claude-3-5-sonnet-20241022'), 3.5);
    assert.equal(claudeVersion('claude-3-opus-20240229'), 3);
    assert.equal(claudeVersion('my-finetune'), undefined);
  });
});

describe('thinkingFor', () => {
  test('reasoning_effort → an enabled budget below max_tokens', () => {
    assert.deepEqual(thinkingFor(req({ reasoning_effort: 'low' }), 128000, noBlockers, ctxFor('claude-sonnet-4-6')), { type: 'enabled', budget_tokens: 1024 });
    assert.deepEqual(thinkingFor(req({ reasoning_effort: 'medium' }), 128000, noBlockers, ctxFor('claude-sonnet-4-6')), { type: 'enabled', budget_tokens: 2048 });
    assert.deepEqual(thinkingFor(req({ reasoning_effort: 'high' }), 128000, noBlockers, ctxFor('claude-sonnet-4-6')), { type: 'enabled', budget_tokens: 4096 });
    assert.deepEqual(thinkingFor(req({ reasoning_effort: 'high' }), 3000, noBlockers, ctxFor('claude-sonnet-4-6')), { type: 'enabled', budget_tokens: 2999 });
  });

  test('no thinking for none, for non-reasoning models, and when max_tokens leaves no room for 1024', () => {
    const drops: string[] = [];
    assert.equal(thinkingFor(req({ reasoning_effort: 'none' }), 1000, noBlockers, ctxFor('claude-sonnet-4-6', drops)), undefined);
    assert.equal(thinkingFor(req({ reasoning_effort: 'high' }), 4096, noBlockers, ctxFor('claude-3-5-sonnet-20241022', drops)), undefined);
    assert.equal(thinkingFor(req({ reasoning_effort: 'high' }), 1024, noBlockers, ctxFor('claude-sonnet-4-6', drops)), undefined);
    assert.deepEqual(drops, ['reasoning_effort', 'reasoning_effort']);
  });

  test('no thinking with a forced tool or in the middle of a tool loop', () => {
    assert.equal(thinkingFor(req({ reasoning_effort: 'high' }), 8000, { forcedTool: true, continuesToolLoop: false }, ctxFor('claude-sonnet-4-6')), undefined);
    assert.equal(thinkingFor(req({ reasoning_effort: 'high' }), 8000, { forcedTool: false, continuesToolLoop: true }, ctxFor('claude-sonnet-4-6')), undefined);
  });

  test('with thinking, temperature and top_k go; top_p stays only in 0.95–1', () => {
    const drops: string[] = [];
    const body = { max_tokens: 9000, temperature: 0.2, top_k: 5, top_p: 0.5 };
    applyThinkingRules(body, ctxFor('claude-sonnet-4-6', drops));
    assert.deepEqual(body, { max_tokens: 9000 });
    assert.deepEqual(drops, ['temperature', 'top_k', 'top_p']);
    const keeps = { max_tokens: 9000, top_p: 0.97 };
    applyThinkingRules(keeps, ctxFor('claude-sonnet-4-6'));
    assert.deepEqual(keeps, { max_tokens: 9000, top_p: 0.97 });
  });
});

describe('responseFormatFor', () => {
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };

  test('json_schema on a 4.5+ model → native output_config.format', () => {
    const plan = responseFormatFor({ type: 'json_schema', json_schema: { name: 'a', schema, strict: true } }, ctxFor('claude-sonnet-4-6'));
    assert.deepEqual(plan, { outputConfig: { format: { type: 'json_schema', schema } } });
  });

  test('json_schema on an older model → a system instruction carrying the schema', () => {
    const plan = responseFormatFor({ type: 'json_schema', json_schema: { name: 'a', schema } }, ctxFor('claude-sonnet-4-20250514'));
    assert.equal(plan.outputConfig, undefined);
    assert.match(plan.systemInstruction!, /JSON/);
    assert.ok(plan.systemInstruction!.includes(JSON.stringify(schema)));
  });

  test('json_object → a system instruction; text → nothing', () => {
    assert.match(responseFormatFor({ type: 'json_object' }, ctxFor('claude-sonnet-4-6')).systemInstruction!, /JSON object/);
    assert.deepEqual(responseFormatFor({ type: 'text' }, ctxFor('claude-sonnet-4-6')), {});
    assert.deepEqual(responseFormatFor(undefined, ctxFor('claude-sonnet-4-6')), {});
  });
});
