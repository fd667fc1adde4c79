// Every error a client can meet on /v1, in the OpenAI envelope, with the status the SDK maps correctly.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { clientFor, startHarness, type Harness } from '../helpers/harness.js';

function assertEnvelope(body: any): void {
  assert.equal(typeof body.error?.message, 'string');
  assert.equal(typeof body.error?.type, 'string');
  assert.ok('param' in body.error && 'code' in body.error);
}

describe('errors', () => {
  let h: Harness;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json', ...headers }, body });

  before(async () => {
    h = await startHarness({ env: { OMNIGATE_BODY_LIMIT_BYTES: '65536', OMNIGATE_MAX_RETRIES: '1', GEMINI_API_KEY: '' } });
  });
  beforeEach(() => h.sim.reset());
  after(() => h.close());

  const invalid: Array<[string, unknown, string]> = [
    ['temperature above 2', { temperature: 2.5 }, 'temperature'],
    ['temperature below 0', { temperature: -0.1 }, 'temperature'],
    ['top_p above 1', { top_p: 1.5 }, 'top_p'],
    ['max_tokens 0', { max_tokens: 0 }, 'max_tokens'],
    ['max_completion_tokens negative', { max_completion_tokens: -5 }, 'max_completion_tokens'],
    ['empty messages', { messages: [] }, 'messages'],
    ['messages not an array', { messages: 'hi' }, 'messages'],
    ['unknown role', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['content of the wrong type', { messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    ['temperature as a string', { temperature: 'hot' }, 'temperature'],
    ['stream not a boolean', { stream: 'yes' }, 'stream'],
    ['stream_options without stream', { stream_options: { include_usage: true } }, 'stream_options'],
    ['five stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['bad tool name', { tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name'],
    ['model missing', { model: undefined }, 'model'],
  ];
  for (const [name, patch, param] of invalid) {
    test(`400 for ${name}`, async () => {
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...(patch as object) };
      const res = await post(JSON.stringify(body));
      assert.equal(res.status, 400);
      const json = await res.json();
      assertEnvelope(json);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.error.param, param);
      assert.equal(h.sim.requests.length, 0, 'nothing reached the upstream');
    });
  }

  test('400 for malformed JSON and a non-object body', async () => {
    for (const body of ['{"model": "gpt-4o",', '[1,2]', '"text"']) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assertEnvelope(await res.json());
    }
  });

  test('400 for tools on a model without tools and images on a model without vision, via the SDK', async () => {
    await assert.rejects(
      h.client.chat.completions.create({ model: 'o1-mini', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] }),
      (err: any) => err instanceof OpenAI.BadRequestError && err.code === 'tools_not_supported',
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: 'grok-3', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }),
      (err: any) => err instanceof OpenAI.BadRequestError && err.code === 'image_not_supported',
    );
  });

  test('413 for a body over the limit', async () => {
    const res = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }));
    assert.equal(res.status, 413);
    assertEnvelope(await res.json());
  });

  test('401 without a key, with a wrong key, and with a disabled key', async () => {
    const none = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 'invalid_api_key');
    await assert.rejects(clientFor(h.url, 'sk-og-wrong').models.list(), (err: any) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key');
    const { id, client } = await h.createKey({ name: 'soon disabled' });
    await client.models.list();
    assert.equal((await h.admin('PATCH', `/admin/keys/${id}`, { disabled: true })).status, 200);
    await new Promise((r) => setTimeout(r, 2_100)); // the key cache holds a lookup for 2 s
    await assert.rejects(client.models.list(), (err: any) => err.status === 401);
  });

  test('404 model_not_found for an unknown model, without calling upstream', async () => {
    await assert.rejects(
      h.client.chat.completions.create({ model: 'gpt-99', messages: [{ role: 'user', content: 'x' }] }),
      (err: any) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found' && /gpt-99/.test(err.message),
    );
    assert.equal(h.sim.requests.length, 0);
  });

  test('503 provider_not_configured when the provider key is unset', async () => {
    await assert.rejects(
      h.client.chat.completions.create({ model: 'gemini-1.5-flash', messages: [{ role: 'user', content: 'x' }] }),
      (err: any) => err.status === 503 && err.code === 'provider_not_configured',
    );
    assert.equal(h.sim.requests.length, 0);
  });

  test('upstream 400 reaches the client as 400 with the upstream message and param', async () => {
    h.sim.enqueue({ kind: 'json', status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    await assert.rejects(
      h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      (err: any) => err.status === 400 && err.code === 'context_length_exceeded' && /maximum context length/.test(err.message),
    );
    assert.equal(h.sim.requests.length, 1, 'client errors are not retried');
  });

  test('upstream 401 becomes 502 and never shows the upstream key', async () => {
    h.sim.enqueue({ kind: 'json', status: 401, body: { error: { message: 'Incorrect API key provided: sim-test-key-openai sk-live-abcdefghijklmnop', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const res = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(res.status, 502);
    const text = await res.text();
    assert.doesNotMatch(text, /sim-test-key|sk-live/);
    assertEnvelope(JSON.parse(text));
  });

  test('upstream 500 is retried, then answered 502 upstream_error', async () => {
    const fail = { kind: 'json' as const, status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } };
    h.sim.enqueue(fail, fail);
    await assert.rejects(
      h.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      (err: any) => err.status === 502 && err.code === 'upstream_error',
    );
    assert.equal(h.sim.requests.length, 2, 'one try plus OMNIGATE_MAX_RETRIES=1');
  });

  test('upstream 429 with a long Retry-After is passed on with the header', async () => {
    h.sim.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } } });
    const res = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.equal((await res.json()).error.code, 'rate_limit_exceeded');
  });

  test('unknown endpoints answer 404 in the envelope', async () => {
    const res = await fetch(`${h.url}/v1/nothing`, { headers: { authorization: `Bearer ${h.apiKey}` } });
    assert.equal(res.status, 404);
    assertEnvelope(await res.json());
  });
});
