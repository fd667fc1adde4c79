import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../types.js';
import { convertMessages, sanitizeToolId } from './convert-messages.js';

function convert(messages: ChatMessage[]) {
  const drops: string[] = [];
  return { ...convertMessages(messages, (what) => drops.push(what)), drops };
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('convertMessages', () => {
  test('system and developer messages become the top-level system, in order', () => {
    const { system, messages } = convert([
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
    ]);
    assert.deepEqual(system, [{ type: 'text', text: 'You are terse.' }, { type: 'text', text: 'Answer in French.' }]);
    assert.deepEqual(messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  test('a system message mid-conversation is hoisted; empty ones are dropped', () => {
    const { system, messages } = convert([
      { role: 'user', content: 'Hi' },
      { role: 'system', content: '' },
      { role: 'assistant', content: 'Hello' },
      { role: 'system', content: 'Now be formal.' },
      { role: 'user', content: 'Bye' },
    ]);
    assert.deepEqual(system, [{ type: 'text', text: 'Now be formal.' }]);
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
  });

  test('consecutive same-role messages merge into one turn', () => {
    const { messages } = convert([
      { role: 'user', content: 'First' },
      { role: 'user', content: 'Second' },
    ]);
    assert.deepEqual(messages, [{ role: 'user', content: [{ type: 'text', text: 'First' }, { type: 'text', text: 'Second' }] }]);
  });

  test('assistant tool calls become tool_use blocks with parsed input; content "" and null add no text block', () => {
    for (const content of ['', null, undefined, '   ']) {
      const { messages } = convert([
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C and sunny' },
      ]);
      assert.deepEqual(messages[1], { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } }] }, String(content));
    }
  });

  test('text beside a tool call is kept, before the tool_use', () => {
    const { messages } = convert([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
    ]);
    assert.deepEqual(messages[1].content.map((b) => b.type), ['text', 'tool_use']);
  });

  test('tool messages become tool_result blocks in one user turn, before any user text', () => {
    const { messages } = convert([
      { role: 'user', content: 'Compare Paris and Rome' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '18°C' },
      { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '25' }, { type: 'text', text: '°C' }] },
      { role: 'user', content: 'In Fahrenheit please' },
    ]);
    assert.equal(messages.length, 3);
    assert.deepEqual(messages[2], {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_a', content: '18°C' },
        { type: 'tool_result', tool_use_id: 'call_b', content: '25°C' },
        { type: 'text', text: 'In Fahrenheit please' },
      ],
    });
  });

  test('user text placed before the tool results still comes after them', () => {
    const { messages } = convert([
      { role: 'user', content: 'Go' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'user', content: 'also this' },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ]);
    assert.deepEqual(messages[2].content.map((b) => b.type), ['tool_result', 'text']);
  });

  test('an empty tool result has no content rather than an empty text', () => {
    const { messages } = convert([
      { role: 'user', content: 'Go' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '' },
    ]);
    assert.deepEqual(messages[1].content[0], { type: 'tool_use', id: 'c1', name: 'f', input: {} });
    assert.deepEqual(messages[2].content[0], { type: 'tool_result', tool_use_id: 'c1' });
  });

  test('tool ids from other providers are made valid, the same way on both sides', () => {
    const { messages } = convert([
      { role: 'user', content: 'Go' },
      { role: 'assistant', tool_calls: [{ id: 'functions.get:0', type: 'function', function: { name: 'get', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'functions.get:0', content: 'ok' },
    ]);
    assert.equal((messages[1].content[0] as any).id, 'functions_get_0');
    assert.equal((messages[2].content[0] as any).tool_use_id, 'functions_get_0');
    assert.equal(sanitizeToolId('toolu_01A-b'), 'toolu_01A-b');
  });

  test('arguments that are not a JSON object are sent as {} and reported', () => {
    const { messages, drops } = convert([
      { role: 'user', content: 'Go' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{broken' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ]);
    assert.deepEqual((messages[1].content[0] as any).input, {});
    assert.deepEqual(drops, ['tool_calls[].function.arguments']);
  });

  test('image_url: a data URI becomes a base64 source, an http URL a url source', () => {
    const { messages } = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          { type: 'image_url', image_url: { url: `data:image/jpg;base64,${PNG}` } },
        ],
      },
    ]);
    assert.deepEqual(messages[0].content, [
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG } },
    ]);
  });

  test('a PDF data URI becomes a document; unsupported images and parts are dropped and reported', () => {
    const { messages, drops } = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Read this' },
          { type: 'image_url', image_url: { url: 'data:application/pdf;base64,JVBERi0x' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0y', filename: 'report.pdf' } },
          { type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } },
          { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
        ],
      },
    ]);
    assert.deepEqual(messages[0].content, [
      { type: 'text', text: 'Read this' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0y' }, title: 'report.pdf' },
    ]);
    assert.deepEqual(drops, ['image_url', 'content part input_audio']);
  });

  test('empty and whitespace-only text parts never become blocks; an emptied message is dropped', () => {
    const { messages, drops } = convert([
      { role: 'user', content: [{ type: 'text', text: ' ' }] },
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'Real question' }] },
    ]);
    assert.deepEqual(messages, [{ role: 'user', content: [{ type: 'text', text: 'Real question' }] }]);
    assert.deepEqual(drops, ['empty user message']);
  });

  test('a final assistant prefill loses its trailing whitespace', () => {
    const { messages } = convert([
      { role: 'user', content: 'Give JSON' },
      { role: 'assistant', content: '{"a": ' },
    ]);
    assert.deepEqual(messages[1], { role: 'assistant', content: [{ type: 'text', text: '{"a":' }] });
  });

  test('reasoning_content in history is not replayed (no signature) and is reported', () => {
    const { messages, drops } = convert([
      { role: 'user', content: 'Q' },
      { role: 'assistant', content: 'A', reasoning_content: 'I thought.' },
      { role: 'user', content: 'Q2' },
    ]);
    assert.deepEqual(messages[1].content, [{ type: 'text', text: 'A' }]);
    assert.deepEqual(drops, ['assistant reasoning_content']);
  });

  test('a conversation that opens with the assistant gets a minimal user turn first', () => {
    const { messages } = convert([
      { role: 'assistant', content: 'How can I help?' },
      { role: 'user', content: 'Tell me a joke' },
    ]);
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
  });

  test('only a system message: it becomes the user turn', () => {
    const { system, messages } = convert([{ role: 'system', content: 'Say hello.' }]);
    assert.equal(system, undefined);
    assert.deepEqual(messages, [{ role: 'user', content: [{ type: 'text', text: 'Say hello.' }] }]);
  });

  test('cache_control on parts and messages is passed on for prompt caching', () => {
    const { system, messages } = convert([
      { role: 'system', content: [{ type: 'text', text: 'Long manual…', cache_control: { type: 'ephemeral' } } as any] },
      { role: 'user', content: 'Q', cache_control: { type: 'ephemeral', ttl: '1h' } } as any,
    ]);
    assert.deepEqual(system, [{ type: 'text', text: 'Long manual…', cache_control: { type: 'ephemeral' } }]);
    assert.deepEqual(messages[0].content, [{ type: 'text', text: 'Q', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
  });
});
