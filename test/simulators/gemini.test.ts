// The default Gemini reply, checked against the Gemini adapter's own translators: what the simulator
// says must be something the adapter understands, as real Gemini traffic is.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from './server.js';
import { geminiAdapter } from '../../src/providers/gemini/index.js';
import type { ChatCompletionChunk } from '../../src/providers/types.js';

let sim: Simulator;
before(async () => {
  sim = await startSimulator();
});
after(async () => {
  await sim.close();
});

const ctx = { requestedModel: 'gemini-1.5-pro', onDrop: () => {} };

async function call(method: 'generateContent' | 'streamGenerateContent?alt=sse', body: unknown, key = 'k') {
  return fetch(`${sim.url}/v1beta/models/gemini-1.5-pro:${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-goog-api-key': key } : {}) },
    body: JSON.stringify(body),
  });
}

function sseEvents(text: string) {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: '))?.slice(6))
    .filter((d): d is string => d !== undefined)
    .map((data) => ({ data }));
}

const ask = (text: string, extra: object = {}) => ({ contents: [{ role: 'user', parts: [{ text }] }], ...extra });

describe('gemini simulator default', () => {
  test('generateContent echoes the last user text with usageMetadata', async () => {
    const res = await call('generateContent', ask('hello there'));
    const json = await res.json();
    assert.equal(json.candidates[0].content.parts[0].text, 'Echo: hello there');
    assert.equal(json.candidates[0].finishReason, 'STOP');
    const u = json.usageMetadata;
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount);
    const { completion } = geminiAdapter.parseResponse(json, ctx);
    assert.equal(completion.choices[0].message.content, 'Echo: hello there');
  });

  test('streamGenerateContent sends several SSE events the stream translator turns into the same text', async () => {
    const res = await call('streamGenerateContent?alt=sse', ask('one two three four five six'));
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const events = sseEvents(await res.text());
    assert.ok(events.length >= 3, `${events.length} events`);
    const t = geminiAdapter.createStreamTranslator(ctx);
    const chunks: ChatCompletionChunk[] = events.flatMap((e) => t.push(e));
    chunks.push(...t.finish());
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Echo: one two three four five six');
    assert.ok(chunks.at(-1)!.usage!.total_tokens > 0);
  });

  test('a thought part when thoughts are asked for', async () => {
    const json = await (await call('generateContent', ask('why', { generationConfig: { thinkingConfig: { includeThoughts: true } } }))).json();
    assert.deepEqual(json.candidates[0].content.parts[0], { text: 'Thinking about: why', thought: true });
    assert.ok(json.usageMetadata.thoughtsTokenCount > 0);
  });

  test('a functionCall when tools are given with mode ANY, on both endpoints', async () => {
    const body = ask('Paris', {
      tools: [{ functionDeclarations: [{ name: 'other' }, { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });
    const json = await (await call('generateContent', body)).json();
    assert.deepEqual(json.candidates[0].content.parts, [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }]);
    const events = sseEvents(await (await call('streamGenerateContent?alt=sse', body)).text());
    assert.ok(events.some((e) => JSON.parse(e.data).candidates[0].content.parts[0].functionCall?.name === 'get_weather'));
  });

  test('without mode ANY the tools are not called', async () => {
    const json = await (await call('generateContent', ask('hi', { tools: [{ functionDeclarations: [{ name: 'f' }] }] }))).json();
    assert.equal(json.candidates[0].content.parts[0].text, 'Echo: hi');
  });

  test('maxOutputTokens cuts the answer with MAX_TOKENS', async () => {
    const json = await (await call('generateContent', ask('a b c d e f', { generationConfig: { maxOutputTokens: 3 } }))).json();
    assert.equal(json.candidates[0].content.parts[0].text, 'Echo: a b ');
    assert.equal(json.candidates[0].finishReason, 'MAX_TOKENS');
  });

  test('tool results and images in the last user turn are echoed', async () => {
    const json = await (
      await call('generateContent', {
        contents: [
          { role: 'user', parts: [{ text: 'q' }] },
          { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', response: { ok: 1 } } }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
        ],
      })
    ).json();
    assert.equal(json.candidates[0].content.parts[0].text, 'Echo: f returned {"ok":1} [image/png, 3 bytes]');
  });

  test('no key → 403 PERMISSION_DENIED in Google\'s envelope', async () => {
    const res = await call('generateContent', ask('x'), '');
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.status, 'PERMISSION_DENIED');
  });
});
