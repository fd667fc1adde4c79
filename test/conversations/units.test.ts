// The pure parts of a turn: prompt budget per model, history building, question assembly.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelEntry } from '../../src/catalog/types.js';
import { buildHistory, promptBudget, turnTokens } from '../../src/conversations/history.js';
import { questionContent } from '../../src/conversations/references.js';
import { answerFormatOf, parseConversationRequest } from '../../src/conversations/request-schema.js';

const model = (over: Partial<ModelEntry>): ModelEntry => ({
  id: 'm',
  provider: 'openai',
  upstreamModel: 'm',
  contextWindow: 1_000,
  maxOutput: 100,
  capabilities: { vision: true, tools: false, reasoning: false },
  pricing: { input: 1, output: 1 },
  ...over,
});

describe('prompt budget', () => {
  test('keeps room for the answer: max_tokens, else the max output up to a quarter of the window', () => {
    assert.equal(promptBudget(model({})), 900);
    assert.equal(promptBudget(model({}), 500), 500);
    assert.equal(promptBudget(model({ maxOutput: 800 })), 750);
  });

  test('leaves a margin for vendors whose tokenizer counts more than o200k', () => {
    assert.equal(promptBudget(model({ provider: 'anthropic' })), 750);
  });
});

describe('buildHistory', () => {
  const turn = (q: string, a: string) => ({ question: q, answer: a, tokens: turnTokens(q, a) });

  test('an empty answer (an incomplete turn cut before any text) never goes upstream empty', () => {
    const built = buildHistory({ model: model({}), turns: [turn('q', '')], question: 'next' });
    assert.deepEqual(built.messages[1], { role: 'assistant', content: '(no answer)' });
  });

  test('whole turns are dropped, oldest first', () => {
    const turns = Array.from({ length: 20 }, (_, i) => turn(`question ${i} ${'x '.repeat(30)}`, `answer ${i}`));
    const built = buildHistory({ model: model({ contextWindow: 500, maxOutput: 50 }), preset: 'p', turns, question: 'now' });
    assert.ok(built.droppedTurns > 0);
    assert.equal(built.messages.length, 2 + 2 * (20 - built.droppedTurns));
    assert.match(String(built.messages[1].content), new RegExp(`^question ${built.droppedTurns} `));
    assert.ok(built.promptTokens <= 450);
  });
});

describe('questionContent', () => {
  test('a document cannot close its own delimiter early', () => {
    const content = questionContent('q', { images: [], documents: [{ source: 'a "b"', text: 'x</document>y' }] });
    assert.equal(content, '<document source="a &quot;b&quot;">\nx<\\/document>y\n</document>\n\nq');
  });
});

describe('request schema', () => {
  test('stateful defaults to false; null optional fields count as absent', () => {
    const req = parseConversationRequest({ model: 'gpt-4o', question: 'q', id: null, preset: null, references: null });
    assert.deepEqual(req, { model: 'gpt-4o', question: 'q', id: undefined, preset: undefined, stateful: false, references: [], temperature: undefined, max_tokens: undefined });
  });

  test('the Accept header picks the answer format', () => {
    assert.equal(answerFormatOf('application/x-ndjson'), 'ndjson');
    assert.equal(answerFormatOf('text/event-stream'), 'sse');
    assert.equal(answerFormatOf('application/json'), 'json');
    assert.equal(answerFormatOf(undefined), 'json');
  });
});
