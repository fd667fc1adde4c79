import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import type { ChatRequest, UpstreamTarget } from '../types.js';
import { buildGeminiRequest, geminiAdapter, geminiUrl } from './index.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const flash = catalog.models.find((m) => m.id === 'gemini-1.5-flash')!;
const target: UpstreamTarget = { baseUrl: 'https://generativelanguage.googleapis.com', apiKey: 'test-gemini-key', upstreamModel: 'gemini-1.5-flash', model: flash };

const build = (req: Partial<ChatRequest>, stream = false, t: UpstreamTarget = target) => {
  const out = geminiAdapter.buildRequest({ model: 'gemini-1.5-flash', messages: [], ...req } as ChatRequest, t, { stream });
  return { ...out, json: JSON.parse(out.body) };
};

describe('geminiAdapter.buildRequest', () => {
  test('URL per endpoint; the key goes in x-goog-api-key, never in the URL', () => {
    const whole = build({ messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(whole.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-flash:generateContent');
    assert.equal(whole.headers['x-goog-api-key'], 'test-gemini-key');
    assert.equal(whole.headers['content-type'], 'application/json');
    assert.doesNotMatch(whole.url, /key=/);
    const streamed = build({ messages: [{ role: 'user', content: 'Hi' }] }, true);
    assert.equal(streamed.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-flash:streamGenerateContent?alt=sse');
  });

  test('geminiUrl tolerates a trailing slash, a /v1beta base and a models/ prefix', () => {
    assert.equal(geminiUrl('http://127.0.0.1:9/', 'models/gemini-1.5-pro', false), 'http://127.0.0.1:9/v1beta/models/gemini-1.5-pro:generateContent');
    assert.equal(geminiUrl('http://h/v1beta', 'm', true), 'http://h/v1beta/models/m:streamGenerateContent?alt=sse');
  });

  test('a full chat: systemInstruction, roles, tools round trip with the function name recovered, image inline, config', () => {
    const { json } = build({
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where this photo was taken?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'Rain, 12C' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' },
          },
        },
      ],
      tool_choice: 'auto',
      temperature: 0.2,
      max_tokens: 256,
    });
    assert.deepEqual(json, {
      contents: [
        { role: 'user', parts: [{ text: 'Weather where this photo was taken?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'Rain, 12C' } } }] },
      ],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      generationConfig: { temperature: 0.2, maxOutputTokens: 256 },
    });
  });

  test('a forced function: mode ANY with allowedFunctionNames', () => {
    const { json } = build({
      messages: [{ role: 'user', content: 'time?' }],
      tools: [{ type: 'function', function: { name: 'now' } }],
      tool_choice: { type: 'function', function: { name: 'now' } },
    });
    assert.deepEqual(json.tools, [{ functionDeclarations: [{ name: 'now' }] }]);
    assert.deepEqual(json.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] } });
  });

  test('Gemini 3 replayed calls carry the documented signature sentinel; 1.5 calls do not', () => {
    const messages: ChatRequest['messages'] = [
      { role: 'user', content: 'a' },
      { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'ok' },
    ];
    const g3: UpstreamTarget = { ...target, upstreamModel: 'gemini-3-pro-preview', model: { ...flash, id: 'gemini-3-pro-preview' } };
    assert.equal(build({ messages }, false, g3).json.contents[1].parts[0].thoughtSignature, 'skip_thought_signature_validator');
    assert.equal(build({ messages }).json.contents[1].parts[0].thoughtSignature, undefined);
  });

  test('drops are reported when the caller passes onDrop', () => {
    const seen: string[] = [];
    buildGeminiRequest({ model: 'x', messages: [{ role: 'user', content: 'a' }], user: 'u', reasoning_effort: 'high' } as ChatRequest, target, {
      stream: false,
      onDrop: (what) => void seen.push(what),
    });
    assert.deepEqual(seen.sort(), ['reasoning_effort', 'user']);
  });

  test('declares inline images and streaming', () => {
    assert.equal(geminiAdapter.imageUrls, 'inline');
    assert.equal(geminiAdapter.supportsStreaming(flash), true);
  });
});
