// Anthropic upstream end to end: the official OpenAI SDK against the gateway against the simulator,
// which answers as the Messages API does (and refuses, with a 400, what the real API would refuse).
// Each test checks what the client saw and what reached the upstream.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { replayChunks, replayJson } from '../simulators/recorded.js';
import type { Reply } from '../simulators/server.js';

// A 1×1 PNG.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): Reply {
  return { kind: 'json', status, headers, body: { type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' } };
}

/** A scripted Anthropic stream from event payloads, with their event names as the API sends them. */
function sse(...payloads: Array<{ type: string; [k: string]: unknown }>): Reply {
  return { kind: 'sse', frames: payloads.map((p) => ({ event: p.type, data: JSON.stringify(p) })) };
}

async function expectApiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, `expected an APIError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request succeeded');
}

describe('Anthropic upstream', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(() => h.sim.reset());

  // claude-sonnet-4-6 and an older generation with a small output cap and no reasoning.
  for (const [model, maxOutput] of [['claude-sonnet-4-6', 128000], ['claude-3-5-sonnet-20241022', 8192]] as const) {
    describe(model, () => {
      test('plain text: the answer, the requested model id, usage; system separated upstream', async () => {
        const res = await h.client.chat.completions.create({
          model,
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'user', content: 'hello there' },
          ],
        });
        assert.equal(res.model, model);
        assert.equal(res.object, 'chat.completion');
        assert.equal(res.choices[0].message.content, 'Echo: hello there');
        assert.equal(res.choices[0].finish_reason, 'stop');
        assert.ok(res.usage!.prompt_tokens > 0);
        assert.equal(res.usage!.completion_tokens, 3);
        assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);

        const upstream = h.sim.last();
        assert.equal(upstream.path, '/v1/messages');
        assert.equal(upstream.headers['x-api-key'], 'sim-test-key-anthropic');
        assert.equal(upstream.headers['anthropic-version'], '2023-06-01');
        assert.equal(upstream.headers.authorization, undefined, 'the caller’s key is not forwarded');
        assert.deepEqual(upstream.body, {
          model,
          max_tokens: maxOutput,
          system: [{ type: 'text', text: 'You are terse.' }],
          messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }],
        });
      });

      test('streaming: role first, text deltas, finish, usage chunk last when asked', async () => {
        const stream = await h.client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'stream me please' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);
        assert.equal(chunks[0].choices[0].delta.role, 'assistant');
        assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Echo: stream me please');
        assert.deepEqual(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason), ['stop']);
        const last = chunks.at(-1)!;
        assert.deepEqual(last.choices, []);
        assert.equal(last.usage?.completion_tokens, 4);
        assert.ok(chunks.every((c) => c.model === model && c.id === chunks[0].id));
        assert.equal(h.sim.last().body.stream, true);
      });

      test('tools round trip: call, result, answer', async () => {
        const first = await h.client.chat.completions.create({
          model,
          messages: [
            { role: 'system', content: 'Use tools.' },
            { role: 'user', content: 'Paris' },
          ],
          tools: [weatherTool],
          tool_choice: 'required',
        });
        const call = first.choices[0].message.tool_calls?.[0];
        assert.equal(first.choices[0].finish_reason, 'tool_calls');
        assert.equal(first.choices[0].message.content, null);
        assert.ok(call && call.type === 'function');
        assert.equal(call.function.name, 'get_weather');
        assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
        assert.match(call.id, /^toolu_/);
        assert.deepEqual(h.sim.last().body.tool_choice, { type: 'any' });
        assert.deepEqual(h.sim.last().body.tools, [{ name: 'get_weather', description: 'Current weather for a city', input_schema: weatherTool.function.parameters }]);

        const second = await h.client.chat.completions.create({
          model,
          messages: [
            { role: 'system', content: 'Use tools.' },
            { role: 'user', content: 'Paris' },
            // content "" as LangChain sends it: must not become an empty text block upstream.
            { role: 'assistant', content: '', tool_calls: [call] },
            { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' },
          ],
          tools: [weatherTool],
        });
        assert.equal(second.choices[0].finish_reason, 'stop');
        assert.equal(second.choices[0].message.content, `Echo: ${call.id} returned 18°C and sunny`);

        const upstream = h.sim.last().body;
        assert.deepEqual(upstream.system, [{ type: 'text', text: 'Use tools.' }]);
        assert.ok(upstream.messages.every((m: { role: string }) => m.role === 'user' || m.role === 'assistant'), 'no system role inside messages');
        assert.deepEqual(upstream.messages, [
          { role: 'user', content: [{ type: 'text', text: 'Paris' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: { city: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' }] },
        ]);
      });

      test('a streamed tool call: id, type and name first, then argument fragments, index 0', async () => {
        const stream = await h.client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Rome' }],
          tools: [weatherTool],
          tool_choice: { type: 'function', function: { name: 'get_weather' } },
          stream: true,
        });
        const deltas = [];
        let finish;
        for await (const chunk of stream) {
          deltas.push(...(chunk.choices[0]?.delta?.tool_calls ?? []));
          finish ??= chunk.choices[0]?.finish_reason ?? undefined;
        }
        assert.equal(deltas[0].index, 0);
        assert.equal(deltas[0].type, 'function');
        assert.equal(deltas[0].function?.name, 'get_weather');
        assert.match(deltas[0].id!, /^toolu_/);
        assert.ok(deltas.every((d) => d.index === 0));
        assert.deepEqual(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { city: 'Rome' });
        assert.equal(finish, 'tool_calls');
        assert.deepEqual(h.sim.last().body.tool_choice, { type: 'tool', name: 'get_weather' });
      });
    });
  }

  describe('images', () => {
    test('by data URI: a base64 image block', async () => {
      const res = await h.client.chat.completions.create({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } }] }],
      });
      assert.equal(res.choices[0].message.content, `Echo: What is this? [image/png, ${Buffer.from(PNG_BASE64, 'base64').length} bytes]`);
      assert.deepEqual(h.sim.last().body.messages[0].content, [
        { type: 'text', text: 'What is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
      ]);
    });

    test('by URL: passed to Anthropic as a url source, not fetched by the gateway', async () => {
      const url = h.sim.serveFile('/cat.png', 'image/png', Buffer.from(PNG_BASE64, 'base64'));
      const fetchedBefore = h.sim.fileRequests.length;
      const res = await h.client.chat.completions.create({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'image_url', image_url: { url, detail: 'high' } }] }],
      });
      assert.equal(res.choices[0].message.content, `Echo: Describe [image ${url}]`);
      assert.deepEqual(h.sim.last().body.messages[0].content[1], { type: 'image', source: { type: 'url', url } });
      assert.equal(h.sim.fileRequests.length, fetchedBefore, 'Anthropic fetches URLs itself');
    });
  });

  describe('reasoning', () => {
    test('reasoning_effort → thinking with a budget; reasoning_content and reasoning tokens come back', async () => {
      const res = await h.client.chat.completions.create({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: 'Why is the sky blue?' }],
        reasoning_effort: 'low',
        temperature: 0.3,
      });
      const message = res.choices[0].message as unknown as { content: string; reasoning_content?: string };
      assert.equal(message.reasoning_content, 'Thinking about: Why is the sky blue?');
      assert.equal(message.content, 'Echo: Why is the sky blue?');
      assert.ok(res.usage!.completion_tokens_details!.reasoning_tokens! > 0);
      const upstream = h.sim.last().body;
      assert.deepEqual(upstream.thinking, { type: 'enabled', budget_tokens: 1024 });
      assert.ok(upstream.max_tokens > upstream.thinking.budget_tokens);
      assert.equal(upstream.temperature, undefined, 'Anthropic refuses temperature with thinking');
    });

    test('streamed thinking arrives as reasoning_content deltas before the answer', async () => {
      const stream = await h.client.chat.completions.create({
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: 'Think first' }],
        reasoning_effort: 'medium',
        max_completion_tokens: 5000,
        stream: true,
      });
      let reasoning = '';
      let content = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
        reasoning += delta?.reasoning_content ?? '';
        if (delta?.content) {
          assert.ok(reasoning.length > 0, 'reasoning comes first');
          content += delta.content;
        }
      }
      assert.equal(reasoning, 'Thinking about: Think first');
      assert.equal(content, 'Echo: Think first');
      assert.deepEqual(h.sim.last().body.thinking, { type: 'enabled', budget_tokens: 2048 });
      assert.equal(h.sim.last().body.max_tokens, 5000);
    });

    test('a model without reasoning gets no thinking', async () => {
      const res = await h.client.chat.completions.create({ model: 'claude-3-5-sonnet-20241022', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high' });
      assert.equal(res.choices[0].message.content, 'Echo: hi');
      assert.equal(h.sim.last().body.thinking, undefined);
    });
  });

  describe('stops', () => {
    test('max_tokens reached → finish_reason length', async () => {
      const res = await h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'one two three four five six' }], max_tokens: 3 });
      assert.equal(res.choices[0].finish_reason, 'length');
      assert.equal(res.choices[0].message.content, 'Echo: one two ');
      assert.equal(h.sim.last().body.max_tokens, 3);
    });

    test('a stop sequence → finish_reason stop, and it reaches Anthropic as stop_sequences', async () => {
      const res = await h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'alpha END beta' }], stop: 'END' });
      assert.equal(res.choices[0].finish_reason, 'stop');
      assert.equal(res.choices[0].message.content, 'Echo: alpha ');
      assert.deepEqual(h.sim.last().body.stop_sequences, ['END']);
    });

    test('a refusal → finish_reason content_filter (recorded response)', async () => {
      h.sim.enqueue(replayJson('anthropic/anthropic-refusal-no-details.json'));
      const res = await h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'something it refuses' }] });
      assert.equal(res.choices[0].finish_reason, 'content_filter');
      assert.equal(res.choices[0].message.content, null);
      assert.equal(res.model, 'claude-sonnet-4-6');
    });

    test('a streamed refusal → finish_reason content_filter', async () => {
      h.sim.enqueue(sse(
        { type: 'message_start', message: { id: 'msg_r', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, usage: { input_tokens: 18, output_tokens: 1 } } },
        { type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: { output_tokens: 5 } },
        { type: 'message_stop' },
      ));
      const stream = await h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }], stream: true });
      const finishes = [];
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      assert.deepEqual(finishes, ['content_filter']);
    });
  });

  describe('recorded Anthropic traffic', () => {
    test('a recorded text response', async () => {
      h.sim.enqueue(replayJson('anthropic/anthropic-text.json'));
      const res = await h.client.chat.completions.create({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'How are you?' }] });
      assert.equal(res.choices[0].message.content, "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?");
      assert.deepEqual(res.usage, { prompt_tokens: 12, completion_tokens: 29, total_tokens: 41, prompt_tokens_details: { cached_tokens: 0 } });
    });

    test('a recorded tool-call stream, with pings and an empty first fragment', async () => {
      h.sim.enqueue(replayChunks('anthropic/anthropic-json-other-tool.1.chunks.txt', { withEventNames: true }));
      const stream = await h.client.chat.completions.create({
        model: 'claude-haiku-4-5-20251001',
        messages: [{ role: 'user', content: 'Weather in San Francisco?' }],
        tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let args = '';
      let name = '';
      let finish;
      let usage;
      for await (const chunk of stream) {
        for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
          assert.equal(call.index, 0);
          name += call.function?.name ?? '';
          args += call.function?.arguments ?? '';
        }
        finish ??= chunk.choices[0]?.finish_reason ?? undefined;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(name, 'weather');
      assert.deepEqual(JSON.parse(args), { location: 'San Francisco' });
      assert.equal(finish, 'tool_calls');
      assert.deepEqual(usage, { prompt_tokens: 843, completion_tokens: 28, total_tokens: 871, prompt_tokens_details: { cached_tokens: 0 } });
    });
  });

  describe('billing', () => {
    test('cache reads and the 5m/1h cache writes are billed at their own prices', async () => {
      const { id, client } = await h.createKey();
      h.sim.enqueue({
        kind: 'json',
        body: {
          id: 'msg_cache', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', stop_reason: 'end_turn', stop_sequence: null,
          content: [{ type: 'text', text: 'cached answer' }],
          usage: {
            input_tokens: 100, cache_read_input_tokens: 1000, cache_creation_input_tokens: 500,
            cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 }, output_tokens: 50,
          },
        },
      });
      const res = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'long prompt' }] });
      assert.equal(res.usage!.prompt_tokens, 1600, 'input + cache reads + cache writes');
      assert.equal(res.usage!.prompt_tokens_details!.cached_tokens, 1000);
      const [record] = await waitForUsage(h, id, 1);
      assert.equal(record.prompt_tokens, 1600);
      assert.equal(record.cached_tokens, 1000);
      assert.equal(record.cache_write_tokens, 500);
      assert.equal(record.completion_tokens, 50);
      // 100×$3 + 1000×$0.30 + 200×$3.75 + 300×$6 + 50×$15, per million tokens = $0.0039.
      assert.equal(record.cost_nano, 3_900_000);
    });
  });

  describe('upstream errors', () => {
    test('529 overloaded → 503 after the gateway’s retries', async () => {
      for (let i = 0; i < 5; i++) h.sim.enqueue(anthropicError(529, 'overloaded_error', 'Overloaded', { 'retry-after': '0' }));
      const err = await expectApiError(h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(err.status, 503);
      assert.equal((err.error as { message?: string }).message, 'Overloaded');
      assert.ok(h.sim.requests.length > 1, 'overloaded is retried');
    });

    test('529 once, then an answer: the retry succeeds', async () => {
      h.sim.enqueue(anthropicError(529, 'overloaded_error', 'Overloaded', { 'retry-after': '0' }));
      const res = await h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'again' }] });
      assert.equal(res.choices[0].message.content, 'Echo: again');
      assert.equal(h.sim.requests.length, 2);
    });

    test('400 invalid_request_error → 400 with Anthropic’s message, not retried', async () => {
      h.sim.enqueue(anthropicError(400, 'invalid_request_error', 'messages.0.content.1.image.source.base64: image exceeds 5 MB maximum'));
      const err = await expectApiError(h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(err.status, 400);
      assert.equal((err.error as { type?: string }).type, 'invalid_request_error');
      assert.match(err.message, /image exceeds 5 MB maximum/);
      assert.equal(h.sim.requests.length, 1);
    });

    test('prompt too long → 400 context_length_exceeded in OpenAI wording', async () => {
      h.sim.enqueue(anthropicError(400, 'invalid_request_error', 'prompt is too long: 1000123 tokens > 1000000 maximum'));
      const err = await expectApiError(h.client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(err.status, 400);
      assert.equal(err.code, 'context_length_exceeded');
      assert.match(err.message, /maximum context length is 1000000 tokens/);
    });

    test('401 → 502, and neither the upstream key nor its message reaches the client', async () => {
      h.sim.enqueue(anthropicError(401, 'authentication_error', 'invalid x-api-key: sim-test-key-anthropic'));
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 502);
      const text = await res.text();
      assert.doesNotMatch(text, /sim-test-key-anthropic|x-api-key/);
      assert.equal(JSON.parse(text).error.type, 'upstream_error');
    });

    test('an error event mid-stream → the SDK stream throws after the partial text', async () => {
      h.sim.enqueue(sse(
        { type: 'message_start', message: { id: 'msg_e', type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'The first half' } },
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ));
      const { id, client } = await h.createKey();
      const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      let finished = false;
      await assert.rejects(async () => {
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? '';
          if (chunk.choices[0]?.finish_reason) finished = true;
        }
      }, (err: unknown) => err instanceof OpenAI.APIError && err.message === 'Overloaded');
      assert.equal(text, 'The first half');
      assert.equal(finished, false, 'a failed stream never ends like a complete answer');
      // What was produced before the failure is still billed, with the prompt Anthropic reported.
      const [record] = await waitForUsage(h, id, 1);
      assert.equal(record.status, 'error');
      assert.equal(record.http_status, 503);
      assert.equal(record.prompt_tokens, 9);
      assert.ok(record.completion_tokens >= 1);
    });
  });
});
