// Every recorded OpenAI-compatible stream (OpenAI, Azure, DeepSeek, xAI, a third-party proxy) through
// the stream translator, folded back and compared with the whole-response translation where both exist.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenAIStreamTranslator } from './parse-stream.js';
import { parseOpenAIResponse } from './parse-response.js';
import { loadChunks, loadJson, loadRaw, recordedDir, recordedFiles } from '../../../test/fixtures/load.js';
import { chunkSequenceProblems, foldChunks } from '../../../test/support/chunks.js';
import { parseSse } from '../../../test/support/sse.js';
import type { ChatCompletionChunk, SseEvent, TranslateContext } from '../types.js';
import { ProviderError } from '../types.js';

function context(dropped: string[] = []): TranslateContext {
  return { requestedModel: 'client-model', onDrop: (what) => dropped.push(what) };
}

function translate(events: SseEvent[], dropped: string[] = []): ChatCompletionChunk[] {
  const translator = createOpenAIStreamTranslator(context(dropped));
  return [...events.flatMap((e) => translator.push(e)), ...translator.finish()];
}

const streams = [
  ...recordedFiles('openai', (n) => n.startsWith('chat_') && n.endsWith('.chunks.txt')),
  ...recordedFiles('deepseek', (n) => n.endsWith('.chunks.txt')),
  ...recordedFiles('xai', (n) => n.startsWith('xai-') && n.endsWith('.chunks.txt')),
  ...recordedFiles('openai-compatible', (n) => n.endsWith('.chunks.txt')),
];

describe('recorded OpenAI-compatible streams', () => {
  for (const file of streams) {
    test(file, () => {
      const chunks = translate(loadChunks(file));
      const folded = foldChunks(chunks);
      assert.deepEqual(chunkSequenceProblems(chunks), []);
      assert.deepEqual([...folded.models], ['client-model']);
      assert.ok(folded.content || folded.toolCalls.length, 'the stream produced an answer');
      const twin = file.replace('.chunks.txt', '.json');
      if (existsSync(join(recordedDir, twin))) {
        const whole = parseOpenAIResponse(loadJson(twin), context()).completion.choices[0];
        // The recordings of a stream and of a whole answer are separate calls: the same kind of answer.
        assert.equal(folded.toolCalls.length, whole.message.tool_calls?.length ?? 0);
        assert.equal(Boolean(folded.content), Boolean(whole.message.content));
        assert.equal(folded.finishReason, whole.finish_reason);
      }
    });
  }
});

test('OpenAI stream: text, one finish chunk, usage chunk last and split from choices', () => {
  const chunks = translate(loadChunks('openai/chat_openai-text.chunks.txt'));
  const folded = foldChunks(chunks);
  assert.match(folded.content, /Holiday Name/);
  assert.equal(folded.finishReason, 'stop');
  assert.ok(folded.usage && folded.usage.total_tokens === folded.usage.prompt_tokens + folded.usage.completion_tokens);
});

test('DeepSeek: reasoning_content streams through, usage riding on the finish chunk is split out', () => {
  const translator = createOpenAIStreamTranslator(context());
  const chunks = loadChunks('deepseek/chat_deepseek-reasoning.chunks.txt').flatMap((e) => translator.push(e));
  const folded = foldChunks(chunks);
  assert.ok(folded.reasoning.length > 100);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage!.completion_tokens_details!.reasoning_tokens! > 0);
  assert.ok(translator.billableUsage()!.outputTokens > 0);
});

test('DeepSeek length stop', () => {
  const folded = foldChunks(translate(loadChunks('deepseek/chat_deepseek-text.chunks.txt')));
  assert.equal(folded.finishReason, 'length');
});

test('xAI: reasoning first, a whole tool call in one delta, completion tokens include reasoning', () => {
  const chunks = translate(loadChunks('openai-compatible/chat_xai-tool-call.chunks.txt'));
  const folded = foldChunks(chunks);
  assert.equal(folded.toolCalls.length, 1);
  assert.equal(folded.toolCalls[0].function.name, 'weather');
  assert.deepEqual(JSON.parse(folded.toolCalls[0].function.arguments), { location: 'San Francisco' });
  assert.ok(folded.reasoning.startsWith('First'));
  const usage = folded.usage!;
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('a proxy that starts tool calls at index 1 is renumbered from 0', async () => {
  const events: SseEvent[] = [];
  const body = (async function* () {
    yield loadRaw('openai-compatible/chat_anthropic-fallback-tool-call.sse');
  })();
  for await (const e of parseSse(body)) events.push(e);
  const raw = events
    .map((e) => (e.data.startsWith('{') ? JSON.parse(e.data).choices?.[0]?.delta?.tool_calls?.[0]?.index : undefined))
    .filter((index) => index !== undefined);
  assert.equal(raw[0], 1, 'the recording really starts at 1');
  const folded = foldChunks(translate(events));
  assert.equal(folded.toolCalls.length, 1);
  assert.ok(JSON.parse(folded.toolCalls[0].function.arguments));
});

test('Azure prompt-filter chunk without choices is dropped and reported', () => {
  const dropped: string[] = [];
  const chunks = translate(loadChunks('openai/chat_azure-model-router.1.chunks.txt'), dropped);
  assert.ok(dropped.includes('chunk without choices'));
  assert.ok(chunks.every((c) => c.id !== ''));
});

test('an error payload mid-stream throws a mapped ProviderError', () => {
  const translator = createOpenAIStreamTranslator(context());
  translator.push({ data: JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'hi' } }] }) });
  assert.throws(
    () => translator.push({ data: JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }) }),
    (err: unknown) => err instanceof ProviderError && err.status === 502 && /server had an error/.test(err.message),
  );
});

test('malformed JSON and [DONE] produce no chunks and no crash', () => {
  const dropped: string[] = [];
  assert.deepEqual(translate([{ data: '{"broken' }, { data: '[DONE]' }], dropped), []);
  assert.deepEqual(dropped, ['malformed chunk']);
});

test('JSON that is not an object (null, a number, a string) is dropped like malformed JSON', () => {
  const dropped: string[] = [];
  assert.deepEqual(translate([{ data: 'null' }, { data: '42' }, { data: '"text"' }], dropped), []);
  assert.deepEqual(dropped, ['malformed chunk', 'malformed chunk', 'malformed chunk']);
});

test('the usage of a content chunk leaves it; the usage goes out as its own chunk, once', () => {
  const base = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'upstream' };
  const chunks = translate([
    { data: JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }], usage: null }) },
    { data: JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }) },
  ]);
  // What a client receives is the serialised chunk: no usage key on the content chunks.
  const wire = chunks.map((c) => JSON.parse(JSON.stringify(c)));
  assert.deepEqual(wire.map((c) => 'usage' in c), [false, false, true]);
  assert.deepEqual(wire[2].usage.total_tokens, 4);
  assert.deepEqual(wire[2].choices, []);
});
