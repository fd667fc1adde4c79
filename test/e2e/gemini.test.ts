// Gemini upstream end to end: the official OpenAI SDK against the gateway against the simulator's
// generateContent / streamGenerateContent endpoints.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { replayJson } from '../simulators/recorded.js';

// A 1×1 transparent PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

// As zod-to-json-schema writes it: keywords Gemini rejects must not reach it.
const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string', title: 'City' } },
      required: ['city'],
      additionalProperties: false,
    },
    strict: true,
  },
};

const PRICES: Record<string, { input: number; output: number }> = {
  'gemini-1.5-pro': { input: 1.25, output: 5 },
  'gemini-1.5-flash': { input: 0.075, output: 0.3 },
};

for (const model of ['gemini-1.5-pro', 'gemini-1.5-flash']) {
  describe(`Gemini upstream: ${model}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness();
    });
    after(() => h.close());

    test('plain text: the answer, usage, and a generateContent call keyed by header', async () => {
      const res = await h.client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hello there' },
        ],
        temperature: 0.3,
      });
      assert.equal(res.model, model);
      assert.equal(res.choices[0].message.content, 'Echo: hello there');
      assert.equal(res.choices[0].finish_reason, 'stop');
      assert.ok(res.usage!.prompt_tokens > 0 && res.usage!.completion_tokens > 0);
      assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);

      const upstream = h.sim.last();
      assert.equal(upstream.path, `/v1beta/models/${model}:generateContent`);
      assert.equal(upstream.headers['x-goog-api-key'], 'sim-test-key-gemini');
      assert.doesNotMatch(upstream.path, /key=/);
      assert.deepEqual(upstream.body.systemInstruction, { parts: [{ text: 'You are terse.' }] });
      assert.deepEqual(upstream.body.contents, [{ role: 'user', parts: [{ text: 'hello there' }] }]);
      assert.deepEqual(upstream.body.generationConfig, { temperature: 0.3 });

      // Billed per pricing.md from Gemini's own counts.
      const [record] = await waitForUsage(h, h.keyId, 1);
      assert.equal(record.prompt_tokens, res.usage!.prompt_tokens);
      assert.equal(record.completion_tokens, res.usage!.completion_tokens);
      const expectedNano = (record.prompt_tokens * PRICES[model].input + record.completion_tokens * PRICES[model].output) * 1000;
      assert.ok(Math.abs(record.cost_nano - expectedNano) <= 1, `cost ${record.cost_nano} ≈ ${expectedNano}`);
    });

    test('streaming: role first, text in several chunks, usage chunk last when asked', async () => {
      const stream = await h.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'stream me a few words please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');
      const textChunks = chunks.filter((c) => c.choices[0]?.delta.content);
      assert.ok(textChunks.length >= 2, `${textChunks.length} text chunks`);
      assert.equal(textChunks.map((c) => c.choices[0].delta.content).join(''), 'Echo: stream me a few words please');
      assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0].finish_reason, 'stop');
      const last = chunks.at(-1)!;
      assert.deepEqual(last.choices, []);
      assert.ok(last.usage!.total_tokens > 0);
      assert.ok(chunks.every((c) => c.model === model && c.id === chunks[0].id));
      assert.equal(h.sim.last().path, `/v1beta/models/${model}:streamGenerateContent?alt=sse`);
    });

    test('tools round trip: a forced call, then the tool result reaches Gemini under the function name', async () => {
      const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Paris' }];
      const first = await h.client.chat.completions.create({ model, messages, tools: [weatherTool], tool_choice: 'required' });
      const sent = h.sim.last().body;
      assert.deepEqual(sent.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
      assert.deepEqual(sent.tools, [
        {
          functionDeclarations: [
            { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          ],
        },
      ]);

      const choice = first.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      const call = choice.message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      assert.equal(call.type, 'function');
      assert.match(call.id, /^call_[A-Za-z0-9_-]+$/);
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });

      messages.push(choice.message as ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21C' });
      const second = await h.client.chat.completions.create({ model, messages, tools: [weatherTool] });
      const contents = h.sim.last().body.contents;
      assert.deepEqual(contents[1], { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] });
      assert.deepEqual(contents[2], { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'Sunny, 21C' } } }] });
      assert.equal(second.choices[0].message.content, 'Echo: get_weather returned {"content":"Sunny, 21C"}');
      assert.equal(second.choices[0].finish_reason, 'stop');
    });

    test('streamed tool call through the SDK stream() helper', async () => {
      const runner = h.client.chat.completions.stream({
        model,
        messages: [{ role: 'user', content: 'Rome' }],
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      });
      const final = await runner.finalChatCompletion();
      const call = final.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Rome' });
      assert.deepEqual(h.sim.last().body.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    });

    test('image by data: URI reaches Gemini as inlineData', async () => {
      const res = await h.client.chat.completions.create({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
            ],
          },
        ],
      });
      assert.deepEqual(h.sim.last().body.contents[0].parts, [
        { text: 'What is this?' },
        { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } },
      ]);
      assert.equal(res.choices[0].message.content, `Echo: What is this? [image/png, ${PNG.length} bytes]`);
    });

    test('image by URL is fetched by the gateway and reaches Gemini as inlineData with the served bytes', async () => {
      const url = h.sim.serveFile(`/cat-${model}.png`, 'image/png', PNG);
      const res = await h.client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'image_url', image_url: { url } }] }],
      });
      assert.ok(h.sim.fileRequests.includes(`/cat-${model}.png`));
      const parts = h.sim.last().body.contents[0].parts;
      assert.equal(parts[1].inlineData.mimeType, 'image/png');
      assert.deepEqual(Buffer.from(parts[1].inlineData.data, 'base64'), PNG);
      assert.equal(res.choices[0].message.content, `Echo: Describe [image/png, ${PNG.length} bytes]`);
    });

    test('max_tokens reaches Gemini as maxOutputTokens; a cut answer is finish_reason length', async () => {
      const res = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'one two three four five' }], max_tokens: 3 });
      assert.equal(h.sim.last().body.generationConfig.maxOutputTokens, 3);
      assert.equal(res.choices[0].finish_reason, 'length');
      assert.equal(res.choices[0].message.content, 'Echo: one two ');

      const stream = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'one two three four five' }], max_completion_tokens: 2, stream: true });
      let finish: string | null = null;
      for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
      assert.equal(finish, 'length');
    });

    test('a prompt Gemini blocks is content_filter with empty content', async () => {
      h.sim.enqueue({
        kind: 'json',
        body: { promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 }, modelVersion: model },
      });
      const res = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'something unsafe' }] });
      assert.equal(res.choices[0].finish_reason, 'content_filter');
      assert.equal(res.choices[0].message.content, '');
      assert.equal(res.usage!.prompt_tokens, 7);
    });

    test('an answer stopped for SAFETY mid-stream ends with content_filter', async () => {
      const frame = (candidate: object) => ({ data: JSON.stringify({ candidates: [{ index: 0, ...candidate }], responseId: 'safety' }) });
      h.sim.enqueue({
        kind: 'sse',
        frames: [frame({ content: { role: 'model', parts: [{ text: 'Here is how' }] } }), frame({ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'SAFETY' })],
      });
      const stream = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], stream: true });
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(text, 'Here is how');
      assert.equal(finish, 'content_filter');
    });

    test('RESOURCE_EXHAUSTED → 429 rate_limit_exceeded with Retry-After from RetryInfo', async () => {
      const before = h.sim.requests.length;
      h.sim.enqueue(replayJson('google/google-429-retry-info.json', 429));
      const err = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, 429);
      assert.equal((err.error as any).code, 'rate_limit_exceeded');
      assert.equal(err.headers.get('retry-after'), '35');
      // 34.4 s is too long to wait inside one request: the client decides.
      assert.equal(h.sim.requests.length, before + 1);
    });

    test('INVALID_ARGUMENT → 400 with the upstream message', async () => {
      h.sim.enqueue({ kind: 'json', status: 400, body: { error: { code: 400, message: 'Invalid JSON payload received. Unknown name "foo"', status: 'INVALID_ARGUMENT' } } });
      const err = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, 400);
      assert.equal((err.error as any).type, 'invalid_request_error');
      assert.match(err.message, /Unknown name "foo"/);
    });

    test('UNAVAILABLE once is retried before the first byte; the client sees the answer', async () => {
      const before = h.sim.requests.length;
      h.sim.enqueue({ kind: 'json', status: 503, body: { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } } });
      const res = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'retry me' }] });
      assert.equal(res.choices[0].message.content, 'Echo: retry me');
      assert.equal(h.sim.requests.length, before + 2);
    });

    test('an error event mid-stream makes the SDK stream throw after the partial text', async () => {
      h.sim.enqueue({
        kind: 'sse',
        frames: [
          { data: JSON.stringify({ candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'partial ' }] } }], responseId: 'midstream' }) },
          { data: JSON.stringify({ error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } }) },
        ],
      });
      const stream = await h.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], stream: true });
      let text = '';
      await assert.rejects(async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      });
      assert.equal(text, 'partial ');
    });
  });
}
