import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../types.js';
import { loadJson, recordedFiles } from '../../../test/fixtures/load.js';
import { parseAnthropicResponse } from './parse-response.js';

function parse(body: unknown) {
  const drops: Array<{ what: string; detail?: unknown }> = [];
  const parsed = parseAnthropicResponse(body, { requestedModel: 'claude-sonnet', onDrop: (what, detail) => drops.push({ what, detail }) });
  return { ...parsed, choice: parsed.completion.choices[0], drops };
}

describe('parseAnthropicResponse', () => {
  test('a text answer: content, stop, the model the client asked for, usage', () => {
    const { completion, choice, billable, drops } = parse(loadJson('anthropic/anthropic-text.json'));
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.id, 'chatcmpl-01VdEjxAP5ahtHKrrRdNBteQ');
    assert.equal(completion.model, 'claude-sonnet', 'the requested id, not claude-sonnet-4-5-20250929');
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?");
    assert.equal(choice.message.tool_calls, undefined);
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(completion.usage, { prompt_tokens: 12, completion_tokens: 29, total_tokens: 41, prompt_tokens_details: { cached_tokens: 0 } });
    assert.deepEqual(billable, { inputTokens: 12, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 29, reasoningTokens: 0, promptTokens: 12 });
    assert.deepEqual(drops, []);
  });

  test('a tool call: type function, arguments as a JSON string of the input, content null', () => {
    const body = loadJson('anthropic/anthropic-json-other-tool.1.json');
    const { choice } = parse(body);
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(choice.message.tool_calls, [
      { id: 'toolu_01PQjhxo3eirCdKNvCJrKc8f', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } },
    ]);
  });

  test('thinking becomes reasoning_content, text stays content', () => {
    const body = loadJson('anthropic/anthropic-claude-opus-5-reasoning-high.1.json');
    const { choice, completion, billable } = parse(body);
    assert.equal(choice.message.reasoning_content, body.content[0].thinking);
    assert.equal(choice.message.content, body.content[1].text);
    assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 139);
    assert.equal(billable.outputTokens, 1699);
    assert.equal(billable.reasoningTokens, 139);
  });

  test('several thinking blocks are separated by a blank line', () => {
    const { choice } = parse({
      id: 'msg_1', type: 'message', role: 'assistant', model: 'x', stop_reason: 'end_turn', usage: {},
      content: [{ type: 'thinking', thinking: 'First.', signature: 's' }, { type: 'text', text: 'A' }, { type: 'thinking', thinking: 'Second.', signature: 's' }, { type: 'text', text: 'B' }],
    });
    assert.equal(choice.message.reasoning_content, 'First.\n\nSecond.');
    assert.equal(choice.message.content, 'AB');
  });

  test('a refusal with no content is content_filter with null content', () => {
    const { choice, completion } = parse(loadJson('anthropic/anthropic-refusal-no-details.json'));
    assert.equal(choice.finish_reason, 'content_filter');
    assert.equal(choice.message.content, null);
    assert.equal(completion.usage?.completion_tokens, 5);
  });

  test('server-tool blocks are dropped and reported; the answer text is kept', () => {
    const body = loadJson('anthropic/anthropic-web-fetch-tool.error.json');
    const { choice, drops } = parse(body);
    assert.equal(choice.message.content, body.content[0].text + body.content[3].text);
    assert.equal(choice.message.tool_calls, undefined, 'server_tool_use is not a client tool call');
    assert.deepEqual(drops.map((d) => d.what).sort(), ['content block server_tool_use', 'content block web_fetch_tool_result']);
  });

  test('redacted thinking is dropped and reported', () => {
    const { choice, drops } = parse({
      id: 'msg_1', type: 'message', role: 'assistant', model: 'x', stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 },
      content: [{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' }, { type: 'text', text: 'ok' }],
    });
    assert.equal(choice.message.content, 'ok');
    assert.equal(choice.message.reasoning_content, undefined);
    assert.deepEqual(drops.map((d) => d.what), ['content block redacted_thinking']);
  });

  test('a tool without arguments has arguments "{}"', () => {
    const { choice } = parse({
      id: 'msg_1', type: 'message', role: 'assistant', model: 'x', stop_reason: 'tool_use', usage: {},
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'now', input: {} }],
    });
    assert.equal(choice.message.tool_calls?.[0].function.arguments, '{}');
  });

  test('an error body sent with a 200 is mapped like an error response', () => {
    assert.throws(
      () => parse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      (err: unknown) => err instanceof ProviderError && err.status === 503,
    );
  });

  test('every recorded Messages response translates; other recorded objects are a 502, never a crash', () => {
    const files = recordedFiles('anthropic', (n) => n.endsWith('.json'));
    assert.ok(files.length > 20);
    for (const file of files) {
      const body = loadJson(file);
      if (body.type === 'message') {
        const { choice, completion } = parse(body);
        assert.ok(['stop', 'length', 'tool_calls', 'content_filter'].includes(choice.finish_reason!), file);
        assert.ok(choice.message.content === null || typeof choice.message.content === 'string', file);
        assert.equal(completion.usage!.total_tokens, completion.usage!.prompt_tokens + completion.usage!.completion_tokens, file);
        for (const call of choice.message.tool_calls ?? []) {
          assert.equal(call.type, 'function', file);
          assert.equal(typeof JSON.parse(call.function.arguments), 'object', file);
        }
      } else {
        assert.throws(() => parse(body), (err: unknown) => err instanceof ProviderError && err.status === 502, file);
      }
    }
  });
});
