import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser.js';
import { parseSse } from '../../test/support/sse.js';

const STREAM = 'data: {"a":1}\r\n\r\n: keep-alive\n\nevent: ping\ndata: one\ndata: two\n\n\ndata: {"b":"é"}\n\ndata: [DONE]\n\n';
const EVENTS = [{ data: '{"a":1}' }, { event: 'ping', data: 'one\ntwo' }, { data: '{"b":"é"}' }, { data: '[DONE]' }];

test('every event of a piece comes back at once, comments and blank lines skipped', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push(Buffer.from(STREAM)), EVENTS);
  assert.deepEqual(parser.end(), []);
});

test('the same events however the bytes are split: inside a line, between \\r and \\n, inside a UTF-8 character', () => {
  const bytes = Buffer.from(STREAM);
  for (let cut = 1; cut < bytes.length; cut++) {
    const parser = new SseParser();
    const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut)), ...parser.end()];
    assert.deepEqual(events, EVENTS, `cut at byte ${cut}`);
  }
});

test('an event without its closing blank line still counts at the end of the stream', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.push('data: {"a":1}\n\ndata: {"last":true}\r'), [{ data: '{"a":1}' }]);
  assert.deepEqual(parser.end(), [{ data: '{"last":true}' }]);
  const unfinished = new SseParser();
  assert.deepEqual(unfinished.push('data: x\n'), []);
  assert.deepEqual(unfinished.end(), [{ data: 'x' }]);
});

test('parseSse hands the same events on one at a time', async () => {
  async function* pieces() {
    yield Buffer.from(STREAM.slice(0, 20));
    yield STREAM.slice(20);
  }
  const events = [];
  for await (const event of parseSse(pieces())) events.push(event);
  assert.deepEqual(events, EVENTS);
});
