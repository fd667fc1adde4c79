import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenAIResponse } from './parse-response.js';
import { loadJson, recordedFiles } from '../../../test/fixtures/load.js';
import type { TranslateContext } from '../types.js';

const ctx: TranslateContext = { requestedModel: 'client-model', onDrop: () => {} };

const bodies = [
  ...recordedFiles('openai', (n) => n.startsWith('chat_') && n.endsWith('.json') && !n.includes('error')),
  ...recordedFiles('deepseek', (n) => n.endsWith('.json')),
  ...recordedFiles('xai', (n) => n.startsWith('xai-') && n.endsWith('.json')),
  ...recordedFiles('openai-compatible', (n) => n.endsWith('.json')),
];

describe('recorded OpenAI-compatible responses', () => {
  for (const file of bodies) {
    test(file, () => {
      const { completion, billable } = parseOpenAIResponse(loadJson(file), ctx);
      assert.equal(completion.model, 'client-model');
      assert.equal(completion.object, 'chat.completion');
      const usage = completion.usage!;
      assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
      assert.equal(billable.inputTokens + billable.cachedInputTokens, usage.prompt_tokens);
      assert.equal(billable.outputTokens, usage.completion_tokens);
      for (const call of completion.choices[0].message.tool_calls ?? []) {
        assert.equal(call.type, 'function');
        assert.doesNotThrow(() => JSON.parse(call.function.arguments));
      }
    });
  }
});

test('DeepSeek reasoner: reasoning_content and answer both reach the client', () => {
  const { completion } = parseOpenAIResponse(loadJson('deepseek/chat_deepseek-reasoning.json'), ctx);
  const message = completion.choices[0].message;
  assert.match(message.content!, /three/);
  assert.match(message.reasoning_content!, /strawberry/);
  assert.equal(completion.usage!.completion_tokens_details!.reasoning_tokens, 315);
});

test('xAI tool call: content "" becomes null, as OpenAI sends it', () => {
  const { completion } = parseOpenAIResponse(loadJson('openai-compatible/chat_xai-tool-call.json'), ctx);
  const choice = completion.choices[0];
  assert.equal(choice.message.content, null);
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls![0].id, 'call_46427107');
});

test('a body with no choices or usage still yields a valid completion and reports the gap', () => {
  const dropped: string[] = [];
  const { completion } = parseOpenAIResponse({}, { ...ctx, onDrop: (w) => dropped.push(w) });
  assert.deepEqual(completion.choices, []);
  assert.equal(completion.usage!.total_tokens, 0);
  assert.deepEqual(dropped, ['usage']);
});
