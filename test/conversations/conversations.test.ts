// POST /aichat/conversations end to end: the gateway keeps the history, the client sends one question.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { ask, call, textOf } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('conversations', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('a stateful conversation is created, continued with its history, and read back', async () => {
    const first = await ask(h, { model: 'gpt-4o', question: 'My name is Ada.', stateful: true });
    assert.equal(first.status, 200);
    assert.match(first.body.id, UUID);
    assert.equal(first.body.answer, 'Echo: My name is Ada.');
    assert.equal(first.body.model, 'gpt-4o');
    assert.equal(first.body.dropped_turns, 0);
    assert.ok(first.body.usage.prompt_tokens > 0 && first.body.usage.completion_tokens > 0);
    assert.deepEqual(h.sim.last().body.messages, [{ role: 'user', content: 'My name is Ada.' }]);

    const second = await ask(h, { model: 'gpt-4o', question: 'What is my name?', id: first.body.id, stateful: true });
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.body.answer, 'Echo: What is my name?');
    assert.deepEqual(h.sim.last().body.messages, [
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Echo: My name is Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);

    const read = await call(h, 'GET', `/aichat/conversations/${first.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.model, 'gpt-4o');
    assert.deepEqual(
      read.body.turns.map((t: any) => [t.seq, t.question, t.answer, t.incomplete]),
      [
        [1, 'My name is Ada.', 'Echo: My name is Ada.', false],
        [2, 'What is my name?', 'Echo: What is my name?', false],
      ],
    );
    assert.deepEqual(read.body.turns[1].usage, second.body.usage);
  });

  test('each turn is billed once, to the usage record the turn points at', async () => {
    const key = await h.createKey({ credit_usd: 5 });
    const first = await ask(h, { model: 'gpt-4o-mini', question: 'one', stateful: true }, { apiKey: key.key });
    await ask(h, { model: 'gpt-4o-mini', question: 'two', id: first.body.id, stateful: true }, { apiKey: key.key });
    const usage = await waitForUsage(h, key.id, 2);
    assert.equal(usage.length, 2);
    assert.ok(usage.every((u) => u.status === 'ok' && u.model === 'gpt-4o-mini'));
    const read = await call(h, 'GET', `/aichat/conversations/${first.body.id}`, key.key);
    assert.deepEqual(read.body.turns.map((t: any) => t.request_id).sort(), usage.map((u) => u.id).sort());
    const me = await call(h, 'GET', '/v1/me', key.key);
    assert.ok(me.body.balance_usd < 5, `balance ${me.body.balance_usd} was not charged`);
  });

  test('the preset is the system prompt, kept across turns until a turn replaces it', async () => {
    const first = await ask(h, { model: 'gpt-4.1', question: 'hi', preset: 'You are terse.', stateful: true });
    assert.deepEqual(h.sim.last().body.messages[0], { role: 'system', content: 'You are terse.' });
    await ask(h, { model: 'gpt-4.1', question: 'again', id: first.body.id, stateful: true });
    assert.deepEqual(h.sim.last().body.messages[0], { role: 'system', content: 'You are terse.' });
    await ask(h, { model: 'gpt-4.1', question: 'now long', id: first.body.id, preset: 'You are verbose.', stateful: true });
    const sent = h.sim.last().body.messages;
    assert.deepEqual(sent[0], { role: 'system', content: 'You are verbose.' });
    assert.equal(sent.filter((m: any) => m.role === 'system').length, 1);
    await ask(h, { model: 'gpt-4.1', question: 'and?', id: first.body.id, stateful: true });
    assert.deepEqual(h.sim.last().body.messages[0], { role: 'system', content: 'You are verbose.' });
    assert.equal((await call(h, 'GET', `/aichat/conversations/${first.body.id}`)).body.preset, 'You are verbose.');
  });

  test('without stateful nothing is stored, and the response still carries an id', async () => {
    const res = await ask(h, { model: 'gpt-4o', question: 'just once' });
    assert.equal(res.status, 200);
    assert.match(res.body.id, UUID);
    assert.equal(res.body.answer, 'Echo: just once');
    assert.equal((await call(h, 'GET', `/aichat/conversations/${res.body.id}`)).status, 404);
    const follow = await ask(h, { model: 'gpt-4o', question: 'and again', id: res.body.id });
    assert.equal(follow.status, 404);
    assert.equal(follow.body.error.code, 'conversation_not_found');
  });

  test('a stateless question on a stored conversation sees its history but adds nothing to it', async () => {
    const first = await ask(h, { model: 'gpt-4o', question: 'remember 42', stateful: true });
    const aside = await ask(h, { model: 'gpt-4o', question: 'what number?', id: first.body.id });
    assert.equal(aside.status, 200);
    assert.equal(aside.body.id, first.body.id);
    assert.equal(textOf(h.sim.last().body.messages[0].content), 'remember 42');
    const read = await call(h, 'GET', `/aichat/conversations/${first.body.id}`);
    assert.equal(read.body.turns.length, 1);
  });

  test('bad requests are 400/404 in the OpenAI error envelope, before any upstream call', async () => {
    const before = h.sim.requests.length;
    const noQuestion = await ask(h, { model: 'gpt-4o' });
    assert.equal(noQuestion.status, 400);
    assert.deepEqual(Object.keys(noQuestion.body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(noQuestion.body.error.type, 'invalid_request_error');
    assert.equal(noQuestion.body.error.param, 'question');
    const noModel = await ask(h, { question: 'hello' });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.body.error.param, 'model');
    const wrongType = await ask(h, { model: 'gpt-4o', question: 'x', references: 'not a list' });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error.param, 'references');
    const badJson = await ask(h, '{"model": "gpt-4o", ');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error.type, 'invalid_request_error');
    const unknownModel = await ask(h, { model: 'gpt-99', question: 'hello' });
    assert.equal(unknownModel.status, 404);
    assert.equal(unknownModel.body.error.code, 'model_not_found');
    const unknownId = await ask(h, { model: 'gpt-4o', question: 'hello', id: '00000000-0000-4000-8000-000000000000', stateful: true });
    assert.equal(unknownId.status, 404);
    assert.equal(unknownId.body.error.code, 'conversation_not_found');
    const noKey = await fetch(`${h.url}/aichat/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noKey.status, 401);
    assert.equal(h.sim.requests.length, before);
  });

  test('a key limited to some models cannot use others here either, and no reference is fetched for it', async () => {
    const limited = await h.createKey({ models: ['gpt-4o-mini'] });
    const doc = h.sim.serveFile('/limited/doc.txt', 'text/plain', 'text');
    const res = await ask(h, { model: 'gpt-4o', question: 'hi', references: [doc] }, { apiKey: limited.key });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'model_not_allowed');
    assert.ok(!h.sim.fileRequests.includes('/limited/doc.txt'));
  });

  test('a conversation belongs to the key that made it: any other key gets 404', async () => {
    const mine = await ask(h, { model: 'gpt-4o', question: 'secret plans', stateful: true });
    const other = await h.createKey();
    const before = h.sim.requests.length;
    const cont = await ask(h, { model: 'gpt-4o', question: 'tell me', id: mine.body.id, stateful: true }, { apiKey: other.key });
    assert.equal(cont.status, 404);
    assert.equal(cont.body.error.code, 'conversation_not_found');
    const peek = await ask(h, { model: 'gpt-4o', question: 'tell me', id: mine.body.id }, { apiKey: other.key });
    assert.equal(peek.status, 404);
    assert.equal(h.sim.requests.length, before);
    assert.equal((await call(h, 'GET', `/aichat/conversations/${mine.body.id}`, other.key)).status, 404);
    assert.equal((await call(h, 'DELETE', `/aichat/conversations/${mine.body.id}`, other.key)).status, 404);
    const list = await call(h, 'GET', '/aichat/conversations', other.key);
    assert.deepEqual(list.body.data, []);
    assert.equal((await call(h, 'GET', `/aichat/conversations/${mine.body.id}`)).status, 200);
  });

  test('a key lists its conversations newest first, page by page', async () => {
    const key = await h.createKey();
    const ids: string[] = [];
    for (const q of ['a', 'b', 'c']) {
      await new Promise((r) => setTimeout(r, 3)); // distinct updated_at even on a fast machine
      ids.push((await ask(h, { model: 'gpt-4o-mini', question: q, stateful: true }, { apiKey: key.key })).body.id);
    }
    // Using the oldest one again makes it the most recent.
    await new Promise((r) => setTimeout(r, 3));
    await ask(h, { model: 'gpt-4o-mini', question: 'a again', id: ids[0], stateful: true }, { apiKey: key.key });
    const page1 = await call(h, 'GET', '/aichat/conversations?limit=2', key.key);
    assert.equal(page1.status, 200);
    assert.equal(page1.body.object, 'list');
    assert.deepEqual(page1.body.data.map((c: any) => c.id), [ids[0], ids[2]]);
    assert.equal(page1.body.data[0].turns, 2);
    assert.equal(page1.body.has_more, true);
    const page2 = await call(h, 'GET', `/aichat/conversations?limit=2&after=${page1.body.last_id}`, key.key);
    assert.deepEqual(page2.body.data.map((c: any) => c.id), [ids[1]]);
    assert.equal(page2.body.has_more, false);
    assert.equal((await call(h, 'GET', '/aichat/conversations?limit=0', key.key)).status, 400);
  });

  test('a deleted conversation is gone', async () => {
    const conv = await ask(h, { model: 'gpt-4o', question: 'forget me', stateful: true });
    const del = await call(h, 'DELETE', `/aichat/conversations/${conv.body.id}`);
    assert.deepEqual(del.body, { id: conv.body.id, object: 'conversation.deleted', deleted: true });
    assert.equal((await call(h, 'GET', `/aichat/conversations/${conv.body.id}`)).status, 404);
    assert.equal((await ask(h, { model: 'gpt-4o', question: 'hello?', id: conv.body.id, stateful: true })).status, 404);
    assert.equal((await call(h, 'DELETE', `/aichat/conversations/${conv.body.id}`)).status, 404);
  });

  test('an upstream failure stores nothing and frees the turn for the next question', async () => {
    const conv = await ask(h, { model: 'gpt-4o', question: 'first', stateful: true });
    h.sim.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad things', type: 'invalid_request_error', param: null, code: null } } });
    const failed = await ask(h, { model: 'gpt-4o', question: 'this fails', id: conv.body.id, stateful: true });
    assert.equal(failed.status, 400);
    const next = await ask(h, { model: 'gpt-4o', question: 'second', id: conv.body.id, stateful: true });
    assert.equal(next.status, 200);
    const read = await call(h, 'GET', `/aichat/conversations/${conv.body.id}`);
    assert.deepEqual(read.body.turns.map((t: any) => [t.seq, t.question]), [[1, 'first'], [2, 'second']]);
  });
});
