import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nearestEffort, shapeBody, shapeMessages } from './params.js';
import type { ChatRequest } from '../types.js';

const base: ChatRequest = { model: 'x', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] };

test('the output cap goes under the field the model expects', () => {
  assert.equal(shapeBody({ ...base, max_tokens: 50 }, 'gpt-4o', { maxTokensField: 'max_completion_tokens' }, false).max_completion_tokens, 50);
  const ds = shapeBody({ ...base, max_completion_tokens: 60 }, 'deepseek-chat', { maxTokensField: 'max_tokens' }, false);
  assert.equal(ds.max_tokens, 60);
  assert.equal(ds.max_completion_tokens, undefined);
});

test('parameters a model rejects are dropped; the upstream model id replaces the alias', () => {
  const body = shapeBody({ ...base, temperature: 0.2, top_p: 0.5, stop: ['x'], seed: 1 }, 'deepseek-reasoner', { dropParams: ['temperature', 'top_p', 'stop'] }, false);
  assert.equal(body.model, 'deepseek-reasoner');
  assert.equal(body.temperature, undefined);
  assert.equal(body.top_p, undefined);
  assert.equal(body.stop, undefined);
  assert.equal(body.seed, 1);
});

test('streaming always asks for usage, whatever the client asked', () => {
  const body = shapeBody({ ...base, stream: true, stream_options: { include_usage: false } }, 'gpt-4o', {}, true);
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
  const whole = shapeBody({ ...base }, 'gpt-4o', {}, false);
  assert.equal(whole.stream, undefined);
  assert.equal(whole.stream_options, undefined);
});

test('o1-mini gets system prompts folded into the first user message', () => {
  const messages = shapeMessages(base.messages, { systemRole: 'user' });
  assert.equal(messages.length, 1);
  assert.deepEqual(messages[0], { role: 'user', content: 'be brief\n\nhi' });
});

test('o-series and gpt-5 get developer instead of system', () => {
  assert.equal(shapeMessages(base.messages, { systemRole: 'developer' })[0].role, 'developer');
});

test('deepseek-reasoner history loses reasoning_content; content parts are flattened to text', () => {
  const messages = shapeMessages(
    [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: 'ok', reasoning_content: 'thinking' },
      { role: 'user', content: 'next' },
    ],
    { stripHistoryReasoning: true, textOnlyContent: true },
  );
  assert.equal(messages[0].content, 'ab');
  assert.equal('reasoning_content' in messages[1], false);
});

test('reasoning_effort maps to the nearest effort a model accepts', () => {
  assert.equal(nearestEffort('medium', ['low', 'high']), 'high');
  assert.equal(nearestEffort('minimal', ['low', 'high']), 'low');
  assert.equal(nearestEffort('high', ['low', 'high']), 'high');
  const body = shapeBody({ ...base, reasoning_effort: 'medium' }, 'grok-3-mini', { reasoningEfforts: ['low', 'high'] }, false);
  assert.equal(body.reasoning_effort, 'high');
});
