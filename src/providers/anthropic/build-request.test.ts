import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, UpstreamTarget } from '../types.js';
import { buildMessagesRequest } from './build-request.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
function targetFor(id: string): UpstreamTarget {
  const model = catalog.models.find((m) => m.id === id)!;
  return { baseUrl: 'https://api.anthropic.test/', apiKey: 'test-anthropic-key', upstreamModel: model.upstreamModel, model };
}

function build(fields: Partial<ChatRequest>, modelId = 'claude-sonnet-4-6', stream = false) {
  const drops: string[] = [];
  const request = buildMessagesRequest({ model: modelId, messages: [{ role: 'user', content: 'Hi' }], ...fields }, targetFor(modelId), stream, (w) => drops.push(w));
  return { request, body: JSON.parse(request.body), drops };
}

const weather = { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('buildMessagesRequest', () => {
  test('POSTs to {base}/v1/messages with x-api-key and anthropic-version', () => {
    const { request, body } = build({});
    assert.equal(request.url, 'https://api.anthropic.test/v1/messages');
    assert.deepEqual(request.headers, { 'content-type': 'application/json', 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' });
    assert.deepEqual(body, { model: 'claude-sonnet-4-6', max_tokens: 128000, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] });
  });

  test('stream:true only when streaming', () => {
    assert.equal(build({}, 'claude-sonnet-4-6', true).body.stream, true);
    assert.equal(build({ stream: true }, 'claude-sonnet-4-6', false).body.stream, undefined);
  });

  test('a typical chat: system separated, sampling mapped, stop sequences', () => {
    const { body } = build({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a colour' }],
      temperature: 0.3,
      max_tokens: 50,
      stop: ['\n\n', '###'],
      user: 'u-1',
    }, 'claude-3-5-sonnet-20241022');
    // "\n\n" is a common OpenAI stop, but Anthropic rejects whitespace-only sequences.
    assert.deepEqual(body, {
      model: 'claude-3-5-sonnet-20241022',
      max_tokens: 50,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Name a colour' }] }],
      system: [{ type: 'text', text: 'Be brief.' }],
      temperature: 0.3,
      stop_sequences: ['###'],
      metadata: { user_id: 'u-1' },
    });
  });

  test('a tool round trip: tool_use in the assistant turn, tool_result in the next user turn', () => {
    const { body } = build({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      ],
      tools: [weather],
      tool_choice: 'auto',
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' }] },
    ]);
    assert.deepEqual(body.tools, [{ name: 'weather', input_schema: weather.function.parameters }]);
    assert.deepEqual(body.tool_choice, { type: 'auto' });
  });

  test('reasoning: thinking with a budget under max_tokens, temperature dropped', () => {
    const { body, drops } = build({ reasoning_effort: 'medium', max_tokens: 8000, temperature: 0.2 });
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.ok(body.thinking.budget_tokens < body.max_tokens);
    assert.equal(body.temperature, undefined);
    assert.deepEqual(drops, ['temperature']);
  });

  test('reasoning with a forced tool: the tool is forced and thinking is left off', () => {
    const { body, drops } = build({ reasoning_effort: 'high', tools: [weather], tool_choice: 'required' });
    assert.deepEqual(body.tool_choice, { type: 'any' });
    assert.equal(body.thinking, undefined);
    assert.deepEqual(drops, ['reasoning_effort']);
  });

  test('reasoning while answering a tool result: thinking is left off (the signed thinking cannot be replayed)', () => {
    const { body } = build({
      reasoning_effort: 'high',
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      ],
    });
    assert.equal(body.thinking, undefined);
  });

  test('reasoning_effort on a model without reasoning is dropped', () => {
    const { body, drops } = build({ reasoning_effort: 'high' }, 'claude-3-opus-20240229');
    assert.equal(body.thinking, undefined);
    assert.deepEqual(drops, ['reasoning_effort']);
  });

  test('json_object adds a system instruction after the client system prompt', () => {
    const { body } = build({ messages: [{ role: 'system', content: 'You extract data.' }, { role: 'user', content: 'Alice is 30' }], response_format: { type: 'json_object' } });
    assert.equal(body.system.length, 2);
    assert.equal(body.system[0].text, 'You extract data.');
    assert.match(body.system[1].text, /JSON object/);
  });

  test('json_schema on sonnet 4.6 uses output_config.format', () => {
    const schema = { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'], additionalProperties: false };
    const { body } = build({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
    assert.deepEqual(body.output_config, { format: { type: 'json_schema', schema } });
    assert.equal(body.system, undefined);
  });

  test('images by data URI and by URL', () => {
    const { body } = build({
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'Compare' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/b.webp' } },
      ] }],
    });
    assert.deepEqual(body.messages[0].content.slice(1), [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/b.webp' } },
    ]);
  });
});
