import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, UpstreamTarget } from '../types.js';
import { adapters } from '../index.js';
import { openaiResponsesAdapter } from './index.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const o1pro = catalog.models.find((m) => m.id === 'o1-pro')!;
const target: UpstreamTarget = { baseUrl: 'http://127.0.0.1:9999/v1', apiKey: 'test-upstream-key', upstreamModel: 'o1-pro', model: o1pro };

function build(req: Partial<ChatRequest>, stream = false) {
  const http = openaiResponsesAdapter.buildRequest({ model: 'o1-pro', messages: [], ...req } as ChatRequest, target, { stream });
  return { ...http, json: JSON.parse(http.body) };
}

describe('the openai-responses adapter', () => {
  test('is the adapter registered for the openai-responses dialect', () => {
    assert.equal(adapters['openai-responses'], openaiResponsesAdapter);
    assert.equal(openaiResponsesAdapter.imageUrls, 'pass');
  });

  test('o1-pro cannot stream (the pipeline synthesises chunks); other Responses models can', () => {
    assert.equal(openaiResponsesAdapter.supportsStreaming(o1pro), false);
    assert.equal(openaiResponsesAdapter.supportsStreaming({ ...o1pro, capabilities: { ...o1pro.capabilities, streaming: undefined } }), true);
  });

  test('posts to {base}/responses with the upstream key as a bearer token', () => {
    const { url, headers } = build({ messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(url, 'http://127.0.0.1:9999/v1/responses');
    assert.equal(headers.authorization, 'Bearer test-upstream-key');
    assert.equal(headers['content-type'], 'application/json');
  });

  test('a typical o1-pro request: instructions, input, tools, effort, no sampling parameters', () => {
    const { json } = build({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      temperature: 0.3,
      max_tokens: 2000,
      reasoning_effort: 'high',
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(json, {
      model: 'o1-pro',
      instructions: 'Be brief.',
      input: [{ type: 'message', role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
      tool_choice: { type: 'function', name: 'weather' },
      max_output_tokens: 2000,
      reasoning: { effort: 'high' },
      store: false,
    });
  });

  test('stream: true is sent only when the pipeline streams', () => {
    assert.equal(build({ messages: [{ role: 'user', content: 'Hi' }] }, true).json.stream, true);
    assert.equal(build({ messages: [{ role: 'user', content: 'Hi' }], stream: true }, false).json.stream, undefined);
  });

  test('tool_choice without tools is not sent', () => {
    assert.equal(build({ messages: [{ role: 'user', content: 'Hi' }], tool_choice: 'required' }).json.tool_choice, undefined);
  });

  test('a caller that passes onDrop hears what the request lost', () => {
    const drops: string[] = [];
    const req = { model: 'o1-pro', messages: [{ role: 'user' as const, content: 'Hi' }], temperature: 0.5, seed: 3 };
    openaiResponsesAdapter.buildRequest(req, target, { stream: false, onDrop: (what) => drops.push(what) });
    assert.deepEqual(drops, ['param temperature', 'param seed']);
  });
});
