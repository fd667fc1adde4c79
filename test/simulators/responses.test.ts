// The default Responses reply, checked against the openai-responses adapter's own translators: what the
// simulator says must be something the adapter understands, and what it refuses must be what OpenAI refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startSimulator, type Simulator } from './server.js';
import { openaiResponsesAdapter } from '../../src/providers/openai-responses/index.js';
import type { ModelEntry } from '../../src/catalog/types.js';
import type { ChatCompletionChunk, ChatRequest, SseEvent } from '../../src/providers/types.js';
import { foldChunks } from '../support/chunks.js';

const catalog = createRequire(import.meta.url)('../../src/catalog/models.json') as { models: ModelEntry[] };
const o1pro = catalog.models.find((m) => m.id === 'o1-pro')!;
const streamingModel: ModelEntry = { ...o1pro, id: 'gpt-5-responses', upstreamModel: 'gpt-5', capabilities: { ...o1pro.capabilities, streaming: true } };
const ctx = { requestedModel: 'o1-pro', onDrop: () => {} };

let sim: Simulator;
before(async () => {
  sim = await startSimulator();
});
after(async () => {
  await sim.close();
});

/** A chat request sent the way the gateway sends it: built by the adapter. */
async function send(req: Partial<ChatRequest>, model = o1pro, stream = false) {
  const http = openaiResponsesAdapter.buildRequest(
    { model: model.id, messages: [{ role: 'user', content: 'hello there' }], ...req } as ChatRequest,
    { baseUrl: `${sim.url}/v1`, apiKey: 'sim-key', upstreamModel: model.upstreamModel, model },
    { stream },
  );
  return fetch(http.url, { method: 'POST', headers: http.headers, body: http.body });
}

function sseEvents(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split('\n');
      return { event: lines.find((l) => l.startsWith('event: '))?.slice(7), data: lines.find((l) => l.startsWith('data: '))!.slice(6) };
    });
}

async function raw(body: unknown, headers: Record<string, string> = { authorization: 'Bearer k' }) {
  const res = await fetch(`${sim.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe('responses simulator default', () => {
  test('echoes the last user text with a reasoning summary and usage counting reasoning tokens', async () => {
    const res = await send({});
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'response');
    assert.deepEqual(body.output.map((i: { type: string }) => i.type), ['reasoning', 'message']);
    const { completion } = openaiResponsesAdapter.parseResponse(body, ctx);
    const { message, finish_reason } = completion.choices[0]!;
    assert.equal(message.content, 'Echo: hello there');
    assert.equal(message.reasoning_content, 'Thinking about: hello there');
    assert.equal(finish_reason, 'stop');
    assert.ok(completion.usage!.completion_tokens_details!.reasoning_tokens! > 0);
    assert.equal(completion.usage!.total_tokens, body.usage.input_tokens + body.usage.output_tokens);
  });

  test('stream:true sends named response.* events the stream translator turns into the same answer', async () => {
    const res = await send({}, streamingModel, true);
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const events = sseEvents(await res.text());
    assert.equal(events[0]!.event, 'response.created');
    assert.equal(events.at(-1)!.event, 'response.completed');
    assert.ok(events.every((e) => e.event === JSON.parse(e.data).type));
    const translator = openaiResponsesAdapter.createStreamTranslator(ctx);
    const chunks: ChatCompletionChunk[] = events.flatMap((e) => translator.push(e));
    chunks.push(...translator.finish());
    const folded = foldChunks(chunks);
    assert.equal(folded.content, 'Echo: hello there');
    assert.equal(folded.reasoning, 'Thinking about: hello there');
    assert.equal(folded.finishReason, 'stop');
    assert.ok(folded.usage!.completion_tokens_details!.reasoning_tokens! > 0);
  });

  test('tools with tool_choice required give a function_call with arguments from the schema', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const body = await (await send({ tools, tool_choice: 'required', messages: [{ role: 'user', content: 'Paris' }] })).json();
    const { completion } = openaiResponsesAdapter.parseResponse(body, ctx);
    assert.deepEqual(completion.choices[0]!.message.tool_calls, [{ id: 'call_sim_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }]);
    assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');

    const streamed = sseEvents(await (await send({ tools, tool_choice: 'required' }, streamingModel, true)).text());
    const translator = openaiResponsesAdapter.createStreamTranslator(ctx);
    const folded = foldChunks([...streamed.flatMap((e) => translator.push(e)), ...translator.finish()]);
    assert.equal(folded.toolCalls[0]!.function.arguments, '{"city":"hello there"}');
  });

  test('after a tool result it answers from the result', async () => {
    const body = await (
      await send({
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_9', content: 'sunny' },
        ],
      })
    ).json();
    assert.equal(openaiResponsesAdapter.parseResponse(body, ctx).completion.choices[0]!.message.content, 'Echo: weather returned sunny');
  });

  test('a small max_output_tokens leaves the response incomplete, which the adapter reports as length', async () => {
    const body = await (await send({ max_tokens: 16, messages: [{ role: 'user', content: 'word '.repeat(80) }] })).json();
    assert.equal(body.status, 'incomplete');
    assert.equal(body.usage.output_tokens, 16);
    assert.equal(openaiResponsesAdapter.parseResponse(body, ctx).completion.choices[0]!.finish_reason, 'length');
  });

  test('refuses what OpenAI refuses', async () => {
    const input = [{ role: 'user', content: 'hi' }];
    const temperature = await raw({ model: 'o1-pro', input, temperature: 0.5 });
    assert.equal(temperature.status, 400);
    assert.equal(temperature.json.error.param, 'temperature');
    assert.equal((await raw({ model: 'o1-pro', input, stream: true })).json.error.param, 'stream');
    assert.equal((await raw({ model: 'gpt-5', input, max_output_tokens: 5 })).json.error.code, 'integer_below_min_value');
    const nested = await raw({ model: 'gpt-5', input, tools: [{ type: 'function', function: { name: 'f' } }] });
    assert.equal(nested.json.error.param, 'tools[0].name');
    const orphan = await raw({ model: 'gpt-5', input: [{ type: 'function_call_output', call_id: 'call_x', output: '1' }] });
    assert.match(orphan.json.error.message, /No tool call found/);
    assert.equal((await raw({ model: 'gpt-5', input }, {})).status, 401);
  });
});
