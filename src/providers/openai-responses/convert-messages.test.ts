import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../types.js';
import { convertMessages } from './convert-messages.js';

function convert(messages: ChatMessage[]) {
  const drops: string[] = [];
  return { ...convertMessages(messages, (what) => drops.push(what)), drops };
}

describe('chat messages → Responses input', () => {
  test('system and developer messages become instructions joined by a blank line', () => {
    const { instructions, input } = convert([
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hello' },
    ]);
    assert.equal(instructions, 'You are terse.\n\nAnswer in French.');
    assert.deepEqual(input, [{ type: 'message', role: 'user', content: 'Hello' }]);
  });

  test('no system message, no instructions field', () => {
    assert.equal('instructions' in convert([{ role: 'user', content: 'Hi' }]), false);
  });

  test('user text and image parts become input_text and input_image (URL passed as is)', () => {
    const { input } = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ]);
    assert.deepEqual(input, [
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is in this picture?' },
          { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
        ],
      },
    ]);
  });

  test('a PDF file part becomes input_file; audio has no Responses input and is reported', () => {
    const { input, drops } = convert([
      {
        role: 'user',
        content: [
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        ],
      },
    ]);
    assert.deepEqual(input, [
      { type: 'message', role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' }] },
    ]);
    assert.deepEqual(drops, ['user content part input_audio']);
  });

  test('a tool round trip: assistant tool_calls become function_call items, tool messages function_call_output', () => {
    const { input } = convert([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '22°C' }] },
    ]);
    assert.deepEqual(input.slice(1), [
      { type: 'function_call', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_2', name: 'weather', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
      { type: 'function_call_output', call_id: 'call_2', output: '22°C' },
    ]);
  });

  test('assistant text is kept beside tool calls; an empty string (LangChain) is not a turn', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    assert.deepEqual(convert([{ role: 'assistant', content: 'Let me check.', tool_calls: [call] }]).input, [
      { type: 'message', role: 'assistant', content: 'Let me check.' },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
    ]);
    assert.deepEqual(convert([{ role: 'assistant', content: '', tool_calls: [call] }]).input, [
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
    ]);
  });

  test('assistant text parts and refusals are sent as plain assistant text', () => {
    const { input } = convert([
      { role: 'assistant', content: [{ type: 'text', text: 'Part one. ' }, { type: 'text', text: 'Part two.' }] },
      { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
    ]);
    assert.deepEqual(input, [
      { type: 'message', role: 'assistant', content: 'Part one. Part two.' },
      { type: 'message', role: 'assistant', content: 'I cannot help with that.' },
    ]);
  });

  test('reasoning_content and names in history are dropped with a report', () => {
    const { input, drops } = convert([
      { role: 'user', content: 'Hi', name: 'alice' },
      { role: 'assistant', content: 'Hello', reasoning_content: 'The user greets me.' },
    ]);
    assert.equal(input.length, 2);
    assert.deepEqual(drops, ['user message name', 'assistant reasoning_content']);
  });
});
