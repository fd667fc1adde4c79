// Streamed answers: NDJSON and SSE by the Accept header, and a stream the client cuts short.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { openaiChatReply } from '../simulators/openai.js';
import { ask, call, ndjsonLines, sseEvents, until } from './helpers.js';

describe('conversation streaming', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('Accept: application/x-ndjson streams one line per delta, then done with usage', async () => {
    const res = await ask(h, { model: 'gpt-4o', question: 'tell me a short story', stateful: true }, { accept: 'application/x-ndjson' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = ndjsonLines(res.body);
    const last = lines.at(-1);
    const deltas = lines.slice(0, -1);
    assert.ok(deltas.length >= 5, `only ${deltas.length} delta lines`);
    let soFar = '';
    for (const line of deltas) {
      assert.deepEqual(Object.keys(line).sort(), ['answer', 'delta_answer', 'id']);
      soFar += line.delta_answer;
      assert.equal(line.answer, soFar);
      assert.equal(line.id, last.id);
    }
    assert.equal(last.done, true);
    assert.equal(last.answer, 'Echo: tell me a short story');
    assert.equal(soFar, last.answer);
    assert.equal(last.model, 'gpt-4o');
    assert.ok(last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
    assert.deepEqual(h.sim.last().body.stream_options, { include_usage: true });

    // The streamed turn is in the history of the next one.
    await ask(h, { model: 'gpt-4o', question: 'and then?', id: last.id, stateful: true });
    assert.deepEqual(h.sim.last().body.messages.slice(0, 2), [
      { role: 'user', content: 'tell me a short story' },
      { role: 'assistant', content: 'Echo: tell me a short story' },
    ]);
  });

  test('Accept: text/event-stream sends the same objects as SSE data events', async () => {
    const res = await ask(h, { model: 'gpt-4o-mini', question: 'one two three' }, { accept: 'text/event-stream' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(!res.body.includes('[DONE]'));
    const events = sseEvents(res.body);
    assert.equal(events.map((e) => e.delta_answer ?? '').join(''), 'Echo: one two three');
    assert.equal(events.at(-2).answer, 'Echo: one two three');
    assert.deepEqual(Object.keys(events.at(-1)).sort(), ['answer', 'done', 'dropped_turns', 'finish_reason', 'id', 'model', 'usage']);
    assert.equal(events.at(-1).done, true);
    assert.equal(events.at(-1).finish_reason, 'stop');
  });

  test('errors before the first byte are ordinary HTTP errors', async () => {
    const res = await ask(h, { model: 'gpt-4o', question: 'x', id: 'nope' }, { accept: 'application/x-ndjson' });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'conversation_not_found');
  });

  test('a stream cut by the client stores what was answered, marked incomplete, billed once', async () => {
    const key = await h.createKey();
    const conv = await ask(h, { model: 'gpt-4o', question: 'hello', stateful: true }, { apiKey: key.key });
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    h.sim.enqueue((req) => ({ ...(openaiChatReply(req) as any), delayMs: 30 }));
    const aborted = new AbortController();
    const res = await fetch(`${h.url}/aichat/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ model: 'gpt-4o', question: words, id: conv.body.id, stateful: true }),
      signal: aborted.signal,
    });
    const reader = res.body!.getReader();
    let received = '';
    while (received.split('\n').filter(Boolean).length < 3) received += new TextDecoder().decode((await reader.read()).value);
    aborted.abort();
    const seen = ndjsonLines(received.slice(0, received.lastIndexOf('\n') + 1));

    const turn = await until(async () => {
      const read = await call(h, 'GET', `/aichat/conversations/${conv.body.id}`, key.key);
      return read.body.turns.find((t: any) => t.seq === 2);
    });
    assert.equal(turn.incomplete, true);
    assert.ok(turn.answer.startsWith(seen.at(-1).answer), `${turn.answer} does not continue ${seen.at(-1).answer}`);
    assert.ok(turn.answer.length < `Echo: ${words}`.length);
    await until(async () => (h.sim.openResponses === 0 ? true : undefined));

    const usage = await waitForUsage(h, key.id, 2);
    assert.equal(usage.length, 2);
    const cut = usage.find((u) => u.id === turn.request_id);
    assert.equal(cut.status, 'aborted');
    assert.ok(cut.completion_tokens > 0);
    // Nothing else arrives later.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await waitForUsage(h, key.id, 3, 0)).length, 2);

    // The cut turn is history now, and the conversation goes on.
    const next = await ask(h, { model: 'gpt-4o', question: 'go on', id: conv.body.id, stateful: true }, { apiKey: key.key });
    assert.equal(next.status, 200);
    assert.deepEqual(h.sim.last().body.messages.at(-2), { role: 'assistant', content: turn.answer });
  });

  test('an upstream failure mid-stream ends with an error line and keeps the partial answer', async () => {
    const conv = await ask(h, { model: 'gpt-4o', question: 'start', stateful: true });
    h.sim.enqueue((req) => ({ ...(openaiChatReply(req) as any), delayMs: 10, resetAfter: 4 }));
    const res = await ask(h, { model: 'gpt-4o', question: 'a b c d e f g h', id: conv.body.id, stateful: true }, { accept: 'application/x-ndjson' });
    assert.equal(res.status, 200);
    const lines = ndjsonLines(res.body);
    const last = lines.at(-1);
    assert.equal(last.done, undefined);
    assert.deepEqual(Object.keys(last.error).sort(), ['code', 'message', 'param', 'type']);
    const read = await call(h, 'GET', `/aichat/conversations/${conv.body.id}`);
    assert.equal(read.body.turns[1].incomplete, true);
    assert.equal(read.body.turns[1].answer, last.answer);
  });
});
