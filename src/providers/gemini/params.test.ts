import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest } from '../types.js';
import { buildGenerationConfig } from './params.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const pro15 = catalog.models.find((m) => m.id === 'gemini-1.5-pro')!;
// Thinking models are config entries; these mirror what one would add.
const pro25: ModelEntry = { ...pro15, id: 'gemini-2.5-pro', upstreamModel: 'gemini-2.5-pro', maxOutput: 65536, capabilities: { ...pro15.capabilities, reasoning: true } };
const pro3: ModelEntry = { ...pro25, id: 'gemini-3-pro-preview', upstreamModel: 'gemini-3-pro-preview' };

function build(req: Partial<ChatRequest>, model: ModelEntry = pro15) {
  const dropped: Array<[string, unknown]> = [];
  const config = buildGenerationConfig({ model: model.id, messages: [{ role: 'user', content: 'hi' }], ...req } as ChatRequest, {
    model,
    upstreamModel: model.upstreamModel,
    onDrop: (w, d) => void dropped.push([w, d]),
  });
  return { config, dropped: dropped.map(([w]) => w) };
}

describe('buildGenerationConfig', () => {
  test('a plain request sends no generationConfig', () => {
    assert.deepEqual(build({ stream: true, stream_options: { include_usage: true } }), { config: undefined, dropped: [] });
  });

  test('sampling and length fields are renamed', () => {
    const { config } = build({ temperature: 1.5, top_p: 0.9, top_k: 40, max_tokens: 100, seed: 7, n: 2, presence_penalty: 0.5, frequency_penalty: 0.25 });
    assert.deepEqual(config, {
      temperature: 1.5,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 100,
      seed: 7,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    });
  });

  test('max_completion_tokens wins over max_tokens; above the model maximum it is capped and reported', () => {
    assert.equal(build({ max_tokens: 100, max_completion_tokens: 200 }).config!.maxOutputTokens, 200);
    const capped = build({ max_tokens: 100_000 });
    assert.equal(capped.config!.maxOutputTokens, 8192);
    assert.deepEqual(capped.dropped, ['max_tokens']);
  });

  test('stop becomes stopSequences, at most five', () => {
    assert.deepEqual(build({ stop: 'END' }).config, { stopSequences: ['END'] });
    const many = build({ stop: ['1', '2', '3', '4', '5', '6'] });
    assert.deepEqual(many.config, { stopSequences: ['1', '2', '3', '4', '5'] });
    assert.deepEqual(many.dropped, ['stop']);
  });

  test('json_object → application/json; json_schema → responseSchema without rejected keywords', () => {
    assert.deepEqual(build({ response_format: { type: 'json_object' } }).config, { responseMimeType: 'application/json' });
    const { config, dropped } = build({
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false },
        },
      },
    });
    assert.deepEqual(config, {
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    });
    assert.deepEqual(dropped, ['response_format schema keywords']);
    assert.equal(build({ response_format: { type: 'text' } }).config, undefined);
  });

  test('reasoning_effort: dropped on a model that does not think', () => {
    assert.deepEqual(build({ reasoning_effort: 'high' }), { config: undefined, dropped: ['reasoning_effort'] });
  });

  test('reasoning_effort: a budget on Gemini 2.5, a level on Gemini 3, thoughts included', () => {
    assert.deepEqual(build({ reasoning_effort: 'low' }, pro25).config, { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    assert.deepEqual(build({ reasoning_effort: 'none' }, pro25).config, { thinkingConfig: { thinkingBudget: 0, includeThoughts: false } });
    assert.deepEqual(build({ reasoning_effort: 'medium' }, pro3).config, { thinkingConfig: { thinkingLevel: 'high', includeThoughts: true } });
    assert.deepEqual(build({ reasoning_effort: 'minimal' }, pro3).config, { thinkingConfig: { thinkingLevel: 'low', includeThoughts: true } });
  });

  test('a thinking model returns its thoughts even when no effort was asked', () => {
    assert.deepEqual(build({}, pro25).config, { thinkingConfig: { includeThoughts: true } });
  });

  test('fields with no Gemini equivalent are dropped and reported', () => {
    const { config, dropped } = build({ user: 'u-1', logit_bias: { '50256': -100 }, parallel_tool_calls: false, mystery: 1 });
    assert.equal(config, undefined);
    assert.deepEqual(dropped, ['user', 'logit_bias', 'parallel_tool_calls', 'parameter']);
  });

  test('logprobs map to responseLogprobs / logprobs', () => {
    assert.deepEqual(build({ logprobs: true, top_logprobs: 3 }).config, { responseLogprobs: true, logprobs: 3 });
  });

  test('out-of-range values are clamped and reported', () => {
    const { config, dropped } = build({ n: 20 });
    assert.deepEqual(config, { candidateCount: 8 });
    assert.deepEqual(dropped, ['n']);
  });
});
