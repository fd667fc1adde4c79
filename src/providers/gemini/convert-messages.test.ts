import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../types.js';
import { convertMessages, parseDataUri, toolResponseObject } from './convert-messages.js';

function run(messages: ChatMessage[], functionCallSignature?: string) {
  const dropped: Array<[string, unknown]> = [];
  const out = convertMessages(messages, { onDrop: (w, d) => void dropped.push([w, d]), functionCallSignature });
  return { ...out, dropped };
}

const PNG_B64 = 'iVBORw0KGgo=';

describe('convertMessages', () => {
  test('system and developer messages become one systemInstruction, in order', () => {
    const out = run([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
    ]);
    assert.deepEqual(out.systemInstruction, { parts: [{ text: 'Be brief.\n\nAnswer in French.' }] });
    assert.deepEqual(out.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
  });

  test('assistant becomes model; consecutive same-role messages merge', () => {
    const out = run([
      { role: 'user', content: 'one' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'three' },
      { role: 'assistant', content: [{ type: 'text', text: 'four' }] },
      { role: 'user', content: 'five' },
    ]);
    assert.deepEqual(out.contents, [
      { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
      { role: 'model', parts: [{ text: 'three' }, { text: 'four' }] },
      { role: 'user', parts: [{ text: 'five' }] },
    ]);
  });

  test('empty text never becomes a part, and a message left with no parts is dropped', () => {
    const out = run([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '' },
      { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'again' }] },
    ]);
    assert.deepEqual(out.contents, [{ role: 'user', parts: [{ text: 'q' }, { text: 'again' }] }]);
  });

  test('tool round trip: functionCall, then functionResponse named after the call with that id', () => {
    const out = run([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_b', content: '{"time":"12:00"}' },
      { role: 'tool', tool_call_id: 'call_a', content: 'Sunny, 21C' },
    ]);
    assert.deepEqual(out.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_time', response: { time: '12:00' } } },
          // Plain-text tool output is wrapped: response must be an object.
          { functionResponse: { name: 'get_weather', response: { content: 'Sunny, 21C' } } },
        ],
      },
    ]);
  });

  test('text beside a tool call is kept (LangChain sends content "")', () => {
    const out = run([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ]);
    assert.deepEqual(out.contents[1], { role: 'model', parts: [{ text: 'Let me check.' }, { functionCall: { name: 'f', args: {} } }] });
  });

  test('the same id reused in a later turn resolves to the later call', () => {
    const out = run([
      { role: 'user', content: 'a' },
      { role: 'assistant', tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'first', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: '1' },
      { role: 'assistant', tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'second', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: '2' },
    ]);
    const names = out.contents.flatMap((c) => c.parts).flatMap((p) => ('functionResponse' in p ? [p.functionResponse.name] : []));
    assert.deepEqual(names, ['first', 'second']);
  });

  test('a call left without a tool message gets an error response before the next turn', () => {
    const out = run([
      { role: 'user', content: 'a' },
      {
        role: 'assistant',
        tool_calls: [
          { id: 'x', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'y', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'x', content: 'ok' },
      { role: 'user', content: 'next' },
    ]);
    assert.deepEqual(out.contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { name: 'f', response: { content: 'ok' } } },
        { functionResponse: { name: 'g', response: { error: 'No result was returned for this tool call.' } } },
        { text: 'next' },
      ],
    });
    assert.ok(out.dropped.some(([w]) => w === 'missing tool results'));
  });

  test('a tool message answering no known call is kept as text', () => {
    const out = run([
      { role: 'user', content: 'a' },
      { role: 'tool', tool_call_id: 'nowhere', content: 'result' },
    ]);
    assert.deepEqual(out.contents, [{ role: 'user', parts: [{ text: 'a' }, { text: 'Result of tool call nowhere: result' }] }]);
    assert.equal(out.dropped[0][0], 'tool message');
  });

  test('data: URI images become inlineData; other URLs are reported, not sent', () => {
    const out = run([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}`, detail: 'high' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ],
      },
    ]);
    assert.deepEqual(out.contents, [{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_B64 } }] }]);
    assert.equal(out.dropped[0][0], 'image_url');
  });

  test('audio and inline files become inlineData', () => {
    const out = run([
      {
        role: 'user',
        content: [
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      },
    ]);
    assert.deepEqual(out.contents[0].parts, [
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  test('replayed calls carry the signature sentinel on the first call of each turn only', () => {
    const out = run(
      [
        { role: 'user', content: 'a' },
        {
          role: 'assistant',
          tool_calls: [
            { id: '1', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: '2', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: '1', content: 'x' },
        { role: 'tool', tool_call_id: '2', content: 'y' },
      ],
      'skip_thought_signature_validator',
    );
    const calls = out.contents[1].parts as Array<{ thoughtSignature?: string }>;
    assert.equal(calls[0].thoughtSignature, 'skip_thought_signature_validator');
    assert.equal(calls[1].thoughtSignature, undefined);
  });

  test('reasoning_content in history is not replayed', () => {
    const out = run([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b', reasoning_content: 'hmm' },
      { role: 'user', content: 'c' },
    ]);
    assert.deepEqual(out.contents[1], { role: 'model', parts: [{ text: 'b' }] });
    assert.equal(out.dropped[0][0], 'assistant reasoning_content');
  });

  test('invalid tool-call arguments are sent as {} and reported; non-object JSON is wrapped', () => {
    const out = run([
      { role: 'user', content: 'a' },
      {
        role: 'assistant',
        tool_calls: [
          { id: '1', type: 'function', function: { name: 'f', arguments: '{oops' } },
          { id: '2', type: 'function', function: { name: 'g', arguments: '[1,2]' } },
        ],
      },
    ]);
    assert.deepEqual(out.contents[1].parts, [{ functionCall: { name: 'f', args: {} } }, { functionCall: { name: 'g', args: { value: [1, 2] } } }]);
    assert.equal(out.dropped[0][0], 'tool_call arguments');
  });

  test('system messages alone become the user turn Gemini needs', () => {
    const out = run([{ role: 'system', content: 'Say hello.' }]);
    assert.deepEqual(out, { contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }], dropped: [] });
  });
});

describe('toolResponseObject', () => {
  test('JSON objects pass as objects; arrays, numbers and text are wrapped', () => {
    assert.deepEqual(toolResponseObject('{"a":1}'), { a: 1 });
    assert.deepEqual(toolResponseObject('[1]'), { content: '[1]' });
    assert.deepEqual(toolResponseObject('42'), { content: '42' });
    assert.deepEqual(toolResponseObject([{ type: 'text', text: 'pl' }, { type: 'text', text: 'ain' }]), { content: 'plain' });
  });
});

describe('parseDataUri', () => {
  test('base64 and percent-encoded payloads', () => {
    assert.deepEqual(parseDataUri('data:image/jpeg;base64,/9j/4A=='), { mimeType: 'image/jpeg', data: '/9j/4A==' });
    assert.deepEqual(parseDataUri('data:text/plain,hi%20there'), { mimeType: 'text/plain', data: Buffer.from('hi there').toString('base64') });
    assert.equal(parseDataUri('https://x/y.png'), undefined);
  });
});
