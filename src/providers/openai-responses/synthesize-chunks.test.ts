import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadJson } from '../../../test/fixtures/load.js';
import { chunkSequenceProblems, foldChunks } from '../../../test/support/chunks.js';
import type { ChatCompletion } from '../types.js';
import { parseResponsesResponse } from './parse-response.js';
import { completionToChunks } from './synthesize-chunks.js';

const ctx = { requestedModel: 'o1-pro', onDrop: () => {} };

describe('a whole answer replayed as a stream', () => {
  test('reasoning, text, finish and usage come out in the order clients expect', () => {
    const { completion } = parseResponsesResponse(loadJson('openai/responses_openai-reasoning-encrypted-content.1.json'), ctx);
    const chunks = completionToChunks(completion);
    assert.deepEqual(chunkSequenceProblems(chunks), []);
    assert.deepEqual(
      chunks.map((c) => Object.keys(c.choices[0]?.delta ?? { usage: 1 })),
      [['role', 'content'], ['reasoning_content'], ['content'], [], ['usage']],
    );
    const folded = foldChunks(chunks);
    assert.equal(folded.content, completion.choices[0]!.message.content);
    assert.equal(folded.reasoning, completion.choices[0]!.message.reasoning_content);
    assert.equal(folded.finishReason, 'stop');
    assert.deepEqual(folded.usage, completion.usage);
    assert.deepEqual([...folded.ids], [completion.id]);
    assert.deepEqual([...folded.models], ['o1-pro']);
  });

  test('tool calls open with index, id, type and name, then carry their arguments', () => {
    const { completion } = parseResponsesResponse(loadJson('openai/responses_parallel-tool-call-wrapper.1.json'), ctx);
    const chunks = completionToChunks(completion);
    const openings = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((d) => d.id);
    assert.deepEqual(
      openings.map((d) => [d.index, d.id, d.type, d.function?.name]),
      [
        [0, 'call_parallel_0', 'function', 'weather'],
        [1, 'call_parallel_1', 'function', 'cityAttractions'],
      ],
    );
    assert.deepEqual(foldChunks(chunks).toolCalls, completion.choices[0]!.message.tool_calls);
    assert.equal(foldChunks(chunks).finishReason, 'tool_calls');
  });

  test('no usage, no usage chunk; a refusal is streamed as delta.refusal', () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4.1',
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'No.' }, logprobs: null, finish_reason: 'stop' }],
    };
    const chunks = completionToChunks(completion);
    assert.equal(chunks.some((c) => c.usage), false);
    assert.equal(foldChunks(chunks).refusal, 'No.');
  });

  test('every choice of an n>1 completion is replayed under its own index', () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-n',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4.1',
      choices: [0, 1].map((index) => ({ index, message: { role: 'assistant' as const, content: `answer ${index}` }, logprobs: null, finish_reason: 'stop' as const })),
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    const chunks = completionToChunks(completion);
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === index);
      assert.equal(mine.map((c) => c.choices[0]!.delta.content ?? '').join(''), `answer ${index}`);
      assert.equal(mine.filter((c) => c.choices[0]!.finish_reason === 'stop').length, 1);
    }
    assert.deepEqual(chunks.at(-1)!.choices, []);
  });

  test('any single-choice completion folds back into the same message', () => {
    const plain = { noNullPrototype: true };
    const toolCall = fc.record(
      {
        id: fc.string({ minLength: 1 }),
        type: fc.constant('function' as const),
        function: fc.record({ name: fc.string({ minLength: 1 }), arguments: fc.json() }, plain),
      },
      plain,
    );
    fc.assert(
      fc.property(
        fc.option(fc.string(), { nil: null }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.array(toolCall, { maxLength: 4 }),
        fc.constantFrom('stop', 'length', 'tool_calls', 'content_filter') as fc.Arbitrary<'stop' | 'length' | 'tool_calls' | 'content_filter'>,
        (content, reasoning, toolCalls, finishReason) => {
          const completion: ChatCompletion = {
            id: 'chatcmpl-p',
            object: 'chat.completion',
            created: 7,
            model: 'any',
            choices: [
              {
                index: 0,
                message: {
                  role: 'assistant',
                  content,
                  ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}),
                  ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
                },
                logprobs: null,
                finish_reason: finishReason,
              },
            ],
            usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
          };
          const chunks = completionToChunks(completion);
          const folded = foldChunks(chunks);
          assert.deepEqual(chunkSequenceProblems(chunks), []);
          assert.equal(folded.content, content ?? '');
          assert.equal(folded.reasoning, reasoning ?? '');
          assert.deepEqual(folded.toolCalls, toolCalls);
          assert.equal(folded.finishReason, finishReason);
        },
      ),
    );
  });
});
