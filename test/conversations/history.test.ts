// History across providers (one conversation, five upstream dialects) and trimming to the context window.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../helpers/harness.js';
import { estimatePromptTokens } from '../../src/billing/estimate-tokens.js';
import { ask, call, textOf } from './helpers.js';

// A model with a 400-token window, so a few turns overflow it; 100 tokens stay free for the answer.
const TINY = {
  id: 'tiny-window',
  provider: 'openai',
  upstreamModel: 'tiny-window',
  contextWindow: 400,
  maxOutput: 100,
  capabilities: { vision: false, tools: false, reasoning: false },
  pricing: { input: 1, output: 2 },
};
const TINY_BUDGET = 300;

describe('conversation history', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omnigate-conv-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ models: [TINY] }));
    h = await startHarness({ env: { OMNIGATE_CONFIG: config } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one conversation moves across providers, each receiving the whole history in its own dialect', async () => {
    const preset = 'Answer in one line.';
    const first = await ask(h, { model: 'gpt-4o', question: 'Q1 capital of France?', preset, stateful: true });
    const id = first.body.id;
    const asked = ['Q1 capital of France?'];
    const answered = ['Echo: Q1 capital of France?'];

    for (const [model, question] of [
      ['claude-sonnet-4-5-20250929', 'Q2 and of Italy?'],
      ['gemini-1.5-flash', 'Q3 and of Spain?'],
      ['deepseek-v3', 'Q4 and of Portugal?'],
      ['grok-3', 'Q5 and of Greece?'],
    ]) {
      const res = await ask(h, { model, question, id, stateful: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.model, model);
      assert.equal(res.body.answer, `Echo: ${question}`);
      const sent = h.sim.last();
      let system: string;
      let turns: Array<[string, string]>;
      if (sent.dialect === 'anthropic') {
        system = textOf(sent.body.system);
        turns = sent.body.messages.map((m: any) => [m.role, textOf(m.content)]);
      } else if (sent.dialect === 'gemini') {
        system = textOf(sent.body.systemInstruction.parts);
        turns = sent.body.contents.map((c: any) => [c.role === 'model' ? 'assistant' : c.role, textOf(c.parts)]);
      } else {
        system = textOf(sent.body.messages[0].content);
        turns = sent.body.messages.slice(1).map((m: any) => [m.role, textOf(m.content)]);
      }
      assert.equal(system, preset, `${model} got no preset`);
      const expected = asked.flatMap((q, i): Array<[string, string]> => [['user', q], ['assistant', answered[i]]]);
      assert.deepEqual(turns, [...expected, ['user', question]], `${model} got the wrong history`);
      asked.push(question);
      answered.push(res.body.answer);
    }
    assert.deepEqual(
      h.sim.requests.slice(-4).map((r) => r.dialect),
      ['anthropic', 'gemini', 'openai', 'openai'],
    );
    const read = await call(h, 'GET', `/aichat/conversations/${id}`);
    assert.equal(read.body.model, 'grok-3');
    assert.deepEqual(read.body.turns.map((t: any) => t.model), ['gpt-4o', 'claude-sonnet-4-5-20250929', 'gemini-1.5-flash', 'deepseek-v3', 'grok-3']);
  });

  test('history longer than the context window is trimmed oldest-first, keeping preset and question', async () => {
    const preset = 'You are a careful counter.';
    const question = (n: number) => `Question ${n}: ${'count these words carefully please '.repeat(4)}`;
    const first = await ask(h, { model: 'tiny-window', question: question(1), preset, stateful: true });
    const id = first.body.id;
    const dropped: number[] = [first.body.dropped_turns];
    for (let n = 2; n <= 8; n++) {
      const res = await ask(h, { model: 'tiny-window', question: question(n), id, stateful: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      dropped.push(res.body.dropped_turns);
      const sent = h.sim.last().body.messages;
      assert.deepEqual(sent[0], { role: 'system', content: preset });
      assert.deepEqual(sent.at(-1), { role: 'user', content: question(n) });
      const keptTurns = (sent.length - 2) / 2;
      assert.equal(keptTurns + res.body.dropped_turns, n - 1);
      // The newest turns are the ones kept, in order.
      const keptQuestions = sent.slice(1, -1).filter((m: any) => m.role === 'user').map((m: any) => m.content);
      assert.deepEqual(keptQuestions, Array.from({ length: keptTurns }, (_, i) => question(n - keptTurns + i)));
      // As many turns as fit, by the tokenizer's count: one more would not.
      assert.ok(estimatePromptTokens(sent) <= TINY_BUDGET, `${estimatePromptTokens(sent)} tokens sent`);
      if (res.body.dropped_turns > 0) {
        const older = question(n - keptTurns - 1);
        const withOneMore = [sent[0], { role: 'user', content: older }, { role: 'assistant', content: `Echo: ${older}` }, ...sent.slice(1)];
        assert.ok(estimatePromptTokens(withOneMore) > TINY_BUDGET);
      }
    }
    assert.ok(dropped.at(-1)! >= 3, `dropped per turn: ${dropped.join(',')}`);
    assert.deepEqual([...dropped].sort((a, b) => a - b), dropped, 'drops only grow as the conversation grows');
    // Trimming shapes what is sent, never what is stored.
    assert.equal((await call(h, 'GET', `/aichat/conversations/${id}`)).body.turns.length, 8);
  });

  test('a turn that cannot fit even alone is a 400 context_length_exceeded', async () => {
    const before = h.sim.requests.length;
    const res = await ask(h, { model: 'tiny-window', question: 'far too long '.repeat(200) });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'context_length_exceeded');
    assert.equal(h.sim.requests.length, before);
  });
});
