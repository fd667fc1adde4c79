import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadJson } from '../../../test/fixtures/load.js';
import { ProviderError } from '../types.js';
import { parseResponsesResponse } from './parse-response.js';

function parse(body: unknown) {
  const drops: string[] = [];
  const parsed = parseResponsesResponse(body, { requestedModel: 'o1-pro', onDrop: (what) => drops.push(what) });
  return { ...parsed, choice: parsed.completion.choices[0]!, drops };
}

function response(output: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: 'resp_abc',
    object: 'response',
    created_at: 1772062769,
    status: 'completed',
    output,
    usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 } },
    ...extra,
  };
}

const message = (...content: unknown[]) => ({ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content });

describe('whole Responses answers', () => {
  test('text of several message items is concatenated; model is the one the client asked for', () => {
    const body = loadJson('openai/responses_openai-phase.1.json');
    const { completion, choice } = parse(body);
    assert.equal(completion.model, 'o1-pro');
    assert.equal(completion.id, 'chatcmpl-0465b6d1ae1f97c500699f88318ee481a3b627f7fcb4875152');
    assert.equal(completion.created, 1772062769);
    assert.equal(choice.message.content, body.output[0].content[0].text + body.output[1].content[0].text);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.tool_calls, undefined);
  });

  test('the reasoning summary becomes reasoning_content', () => {
    const { choice } = parse(loadJson('openai/responses_openai-reasoning-encrypted-content.1.json'));
    assert.match(choice.message.reasoning_content!, /^\*\*Reporting final result\*\*/);
    assert.match(choice.message.content!, /Final result: 570/);
  });

  test('several summary parts are separated by a blank line', () => {
    const body = response([
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'First.' }, { type: 'summary_text', text: 'Second.' }] },
      message({ type: 'output_text', text: 'Done', annotations: [] }),
    ]);
    assert.equal(parse(body).choice.message.reasoning_content, 'First.\n\nSecond.');
  });

  test('function_call items become tool_calls whose id is the call_id', () => {
    const { choice } = parse(loadJson('openai/responses_openai-client-tool-search.2.json'));
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls!.length, 1);
    assert.deepEqual(choice.message.tool_calls, [
      {
        id: 'call_heVrRaKZEJbsRvHvaEf5BLUI',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"fahrenheit"}' },
      },
    ]);
  });

  test('a function call with empty arguments gets "{}"', () => {
    const body = response([{ type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'now', arguments: '' }]);
    assert.equal(parse(body).choice.message.tool_calls![0]!.function.arguments, '{}');
  });

  test('the undeclared `parallel` wrapper becomes one tool call per wrapped use', () => {
    const { choice } = parse(loadJson('openai/responses_parallel-tool-call-wrapper.1.json'));
    assert.deepEqual(choice.message.tool_calls, [
      { id: 'call_parallel_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } },
      { id: 'call_parallel_1', type: 'function', function: { name: 'cityAttractions', arguments: '{"city":"Rome"}' } },
    ]);
    assert.equal(choice.finish_reason, 'tool_calls');
  });

  test('a tool the caller really named `parallel` is left alone', () => {
    const body = { ...loadJson('openai/responses_parallel-tool-call-wrapper.1.json'), tools: [{ type: 'function', name: 'parallel' }] };
    const calls = parse(body).choice.message.tool_calls!;
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.function.name, 'parallel');
    assert.equal(calls[0]!.id, 'call_parallel');
  });

  test('a refusal fills message.refusal, leaves content null and finishes with content_filter', () => {
    const { choice } = parse(response([message({ type: 'refusal', refusal: "I can't help with that." })]));
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.refusal, "I can't help with that.");
    assert.equal(choice.finish_reason, 'content_filter');
  });

  test('incomplete at max_output_tokens → length, keeping the partial text', () => {
    const body = response([message({ type: 'output_text', text: 'The answer is', annotations: [] })], {
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
    const { choice } = parse(body);
    assert.equal(choice.finish_reason, 'length');
    assert.equal(choice.message.content, 'The answer is');
  });

  test('incomplete with only reasoning (the whole budget spent thinking) → length with empty content', () => {
    const body = response([{ type: 'reasoning', id: 'rs_1', summary: [] }], { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    const { choice } = parse(body);
    assert.equal(choice.finish_reason, 'length');
    assert.equal(choice.message.content, '');
  });

  test('incomplete because of the content filter → content_filter', () => {
    const body = response([], { status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    assert.equal(parse(body).choice.finish_reason, 'content_filter');
  });

  test('server-side tool items and annotations are dropped with a report, the answer kept', () => {
    const { choice, drops } = parse(loadJson('openai/responses_openai-web-search-tool.1.json'));
    assert.ok(choice.message.content!.length > 100);
    assert.ok(drops.includes('output item web_search_call'));
    assert.ok(drops.includes('output_text annotations'));
  });

  test('usage maps to OpenAI usage and billable usage', () => {
    const { completion, billable } = parse(loadJson('openai/responses_openai-phase.1.json'));
    assert.equal(completion.usage!.prompt_tokens_details!.cached_tokens, 3072);
    assert.equal(completion.usage!.completion_tokens_details!.reasoning_tokens, 58);
    assert.equal(billable.inputTokens, 7243 - 3072);
  });

  test('a failed response is an upstream error, not an empty answer', () => {
    const body = response([], { status: 'failed', error: { code: 'server_error', message: 'The server had an error.' } });
    assert.throws(() => parse(body), (e: unknown) => e instanceof ProviderError && e.status === 502);
  });
});
