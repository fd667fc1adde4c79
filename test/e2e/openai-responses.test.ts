// o1-pro end to end: the official OpenAI SDK speaks Chat Completions to the gateway, the gateway speaks
// the Responses API to the simulator. o1-pro cannot stream upstream, so a client that streams gets
// chunks synthesised from one whole upstream answer.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APIError } from 'openai';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { replayJson } from '../simulators/recorded.js';

const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('o1-pro through the Responses API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('plain text, non-streaming: the answer, the requested model id and usage with reasoning tokens', async () => {
    const res = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hello there' },
      ],
    });
    assert.equal(res.model, 'o1-pro');
    assert.equal(res.choices[0]!.message.content, 'Echo: hello there');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    const usage = res.usage!;
    assert.ok(usage.prompt_tokens > 0);
    assert.ok(usage.completion_tokens_details!.reasoning_tokens! > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

    const upstream = h.sim.last();
    assert.equal(upstream.path, '/v1/responses');
    assert.equal(upstream.headers.authorization, 'Bearer sim-test-key-openai');
    assert.equal(upstream.body.model, 'o1-pro');
    assert.equal(upstream.body.instructions, 'You are terse.');
    assert.deepEqual(upstream.body.input, [{ type: 'message', role: 'user', content: 'hello there' }]);
    assert.equal(upstream.body.store, false);
    assert.equal(upstream.body.stream, undefined);

    // Billed at o1-pro's list prices ($150 / $600 per 1M), reasoning included in output.
    const record = (await waitForUsage(h, h.keyId, 1)).at(-1);
    assert.equal(record.status, 'ok');
    assert.equal(record.reasoning_tokens, usage.completion_tokens_details!.reasoning_tokens);
    assert.equal(record.cost_nano, usage.prompt_tokens * 150_000 + usage.completion_tokens * 600_000);
  });

  test('a streaming client gets synthesised chunks from one non-streaming upstream call', async () => {
    const stream = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let reasoning = '';
    let role: string | undefined;
    let finish: string | null = null;
    let usage: any;
    const models = new Set<string>();
    const ids = new Set<string>();
    for await (const chunk of stream) {
      models.add(chunk.model);
      ids.add(chunk.id);
      const choice = chunk.choices[0];
      role ??= choice?.delta?.role;
      text += choice?.delta?.content ?? '';
      reasoning += (choice?.delta as any)?.reasoning_content ?? '';
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) {
        assert.deepEqual(chunk.choices, [], 'usage comes in its own choice-less chunk');
        usage = chunk.usage;
      }
    }
    assert.equal(role, 'assistant');
    assert.equal(text, 'Echo: stream me please');
    assert.equal(reasoning, 'Thinking about: stream me please');
    assert.equal(finish, 'stop');
    assert.ok(usage.completion_tokens > 0 && usage.completion_tokens_details.reasoning_tokens > 0);
    assert.deepEqual([...models], ['o1-pro']);
    assert.equal(ids.size, 1);
    // o1-pro rejects stream:true upstream (the simulator answers 400 as OpenAI does): it was not asked.
    assert.notEqual(h.sim.last().body.stream, true);
  });

  test('a streaming client without include_usage gets no usage chunk', async () => {
    const stream = await h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'no usage' }], stream: true });
    let sawUsage = false;
    let text = '';
    for await (const chunk of stream) {
      if (chunk.usage) sawUsage = true;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'Echo: no usage');
    assert.equal(sawUsage, false);
  });

  test('tools round trip: function_call and function_call_output reach the upstream with the same call_id', async () => {
    const first = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weatherTool],
      tool_choice: 'required',
    });
    const choice = first.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const call = choice.message.tool_calls![0]! as { id: string; type: string; function: { name: string; arguments: string } };
    assert.equal(call.type, 'function');
    assert.equal(call.id, 'call_sim_1');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
    const firstUpstream = h.sim.last().body;
    assert.deepEqual(firstUpstream.tools, [
      { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: weatherTool.function.parameters, strict: false },
    ]);
    assert.equal(firstUpstream.tool_choice, 'required');

    const second = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [
        { role: 'user', content: 'Paris' },
        { role: 'assistant', content: null, tool_calls: [call as any] },
        { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' },
      ],
      tools: [weatherTool],
    });
    assert.equal(second.choices[0]!.message.content, 'Echo: get_weather returned 18°C and sunny');
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    const input = h.sim.last().body.input;
    assert.deepEqual(input.slice(1), [
      { type: 'function_call', call_id: 'call_sim_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_sim_1', output: '18°C and sunny' },
    ]);
  });

  test('a streaming client receives tool calls as index/id/name deltas', async () => {
    const stream = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'Rome' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stream: true,
    });
    const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
        calls[delta.index] ??= { arguments: '' };
        if (delta.id) calls[delta.index]!.id = delta.id;
        if (delta.function?.name) calls[delta.index]!.name = delta.function.name;
        calls[delta.index]!.arguments += delta.function?.arguments ?? '';
      }
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    }
    assert.deepEqual(calls, [{ id: 'call_sim_1', name: 'get_weather', arguments: '{"city":"Rome"}' }]);
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(h.sim.last().body.tool_choice, { type: 'function', name: 'get_weather' });
  });

  test('a recorded `parallel` wrapper call reaches the client as the two calls it wraps', async () => {
    h.sim.enqueue(replayJson('openai/responses_parallel-tool-call-wrapper.1.json'));
    const tool = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } });
    const res = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'Weather in San Francisco and sights in Rome?' }],
      tools: [tool('weather'), tool('cityAttractions')],
    });
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(
      res.choices[0]!.message.tool_calls!.map((c: any) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
      [
        ['call_parallel_0', 'weather', { location: 'San Francisco' }],
        ['call_parallel_1', 'cityAttractions', { city: 'Rome' }],
      ],
    );
  });

  test('an image by URL is passed to the upstream as input_image, not fetched by the gateway', async () => {
    const url = h.sim.serveFile('/cat.png', 'image/png', PNG_1X1);
    const fetchedBefore = h.sim.fileRequests.length;
    const res = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url, detail: 'low' } },
          ],
        },
      ],
    });
    assert.match(res.choices[0]!.message.content!, /^Echo: What is this\? \[image /);
    assert.deepEqual(h.sim.last().body.input, [
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: url, detail: 'low' },
        ],
      },
    ]);
    assert.equal(h.sim.fileRequests.length, fetchedBefore, 'OpenAI fetches image URLs itself');
  });

  test('reasoning summary comes back as reasoning_content; reasoning_effort reaches reasoning.effort', async () => {
    const res = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'think hard' }],
      reasoning_effort: 'high',
    });
    assert.equal((res.choices[0]!.message as any).reasoning_content, 'Thinking about: think hard');
    assert.equal(res.choices[0]!.message.content, 'Echo: think hard');
    assert.deepEqual(h.sim.last().body.reasoning, { effort: 'high' });
  });

  test('an answer cut at max_output_tokens finishes with length, keeping the text produced so far', async () => {
    const question = 'please describe the whole history of the world in detail';
    const res = await h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: question }], max_completion_tokens: 24 });
    const content = res.choices[0]!.message.content!;
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.ok(content.length > 0 && `Echo: ${question}`.startsWith(content) && content.length < `Echo: ${question}`.length, content);
    assert.equal(res.usage!.completion_tokens, 24);
    assert.equal(h.sim.last().body.max_output_tokens, 24);
  });

  test('max_tokens below the Responses minimum of 16 is raised rather than refused', async () => {
    const res = await h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    assert.equal(h.sim.last().body.max_output_tokens, 16);
    assert.ok(['stop', 'length'].includes(res.choices[0]!.finish_reason));
  });

  test('temperature and top_p are dropped for o1-pro instead of failing upstream', async () => {
    const res = await h.client.chat.completions.create({
      model: 'o1-pro',
      messages: [{ role: 'user', content: 'warm?' }],
      temperature: 0.2,
      top_p: 0.5,
    });
    assert.equal(res.choices[0]!.message.content, 'Echo: warm?');
    const body = h.sim.last().body;
    assert.equal('temperature' in body, false);
    assert.equal('top_p' in body, false);
  });

  test('an upstream 500 reaches the client as 502 in the OpenAI envelope', async () => {
    const failure = { kind: 'json' as const, status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
    // Enough failures for any retries the gateway makes before giving up.
    h.sim.enqueue(failure, failure, failure, failure, failure);
    const before = h.sim.requests.length;
    await assert.rejects(
      h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'fail please' }] }),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.equal(error.status, 502);
        assert.equal((error.error as any)?.type, 'upstream_error');
        return true;
      },
    );
    assert.ok(h.sim.requests.length > before);
    h.sim.reset();
  });

  test('an upstream 400 reaches the client as 400 with the upstream message and param', async () => {
    h.sim.enqueue({
      kind: 'json',
      status: 400,
      body: { error: { message: "Invalid 'input[0].content': string too long.", type: 'invalid_request_error', param: 'input[0].content', code: 'string_above_max_length' } },
    });
    await assert.rejects(
      h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'too long' }] }),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.equal(error.status, 400);
        assert.match(error.message, /string too long/);
        assert.equal((error.error as any)?.param, 'input[0].content');
        return true;
      },
    );
  });

  test('the upstream account out of quota (429 insufficient_quota) is a 502 the client should not retry', async () => {
    h.sim.enqueue({ kind: 'json', status: 429, body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } });
    await assert.rejects(
      h.client.chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'quota' }] }),
      (error: unknown) => error instanceof APIError && error.status === 502,
    );
  });
});
