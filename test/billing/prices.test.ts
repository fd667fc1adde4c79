// Price math: for each provider's usage object (cached and reasoning tokens, cache writes, prompt-size
// tiers) the charge in the usage record equals the figure computed by hand from pricing.md. Each case
// goes through the real pipeline: the simulator answers in the provider's own dialect.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, waitForUsage, type Harness } from '../helpers/harness.js';
import { costNano } from '../../src/billing/prices.js';
import type { Reply } from '../simulators/server.js';
import { openaiJson, usage } from './support/replies.js';
import { postChat } from './support/billing-helpers.js';

interface PriceCase {
  name: string;
  model: string;
  reply: Reply;
  /** Hand-computed from pricing.md, in nano-USD (USD per 1M tokens = nano-USD per 1K tokens). */
  expectedNano: number;
  tokens: { prompt: number; completion: number; cached: number; reasoning: number };
}

const anthropicMessage = (u: object): Reply => ({
  kind: 'json',
  body: { id: 'msg_price', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'Priced.' }], stop_reason: 'end_turn', stop_sequence: null, usage: u },
});
const geminiResponse = (u: object): Reply => ({
  kind: 'json',
  body: { candidates: [{ content: { role: 'model', parts: [{ text: 'Priced.' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: u, modelVersion: 'gemini-sim', responseId: 'r1' },
});
const responsesResponse = (u: object): Reply => ({
  kind: 'json',
  body: {
    id: 'resp_price', object: 'response', created_at: 1_770_000_000, status: 'completed', model: 'o1-pro',
    output: [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Priced.', annotations: [] }] }],
    usage: u,
  },
});

const CASES: PriceCase[] = [
  {
    name: 'OpenAI gpt-4.1: cached input at $0.50, reasoning inside completion at $8',
    model: 'gpt-4.1',
    reply: openaiJson(usage(1_000, 500, { prompt_tokens_details: { cached_tokens: 400 }, completion_tokens_details: { reasoning_tokens: 200 } })),
    // 600 × $2 + 400 × $0.50 + 500 × $8 per 1M = 1,200,000 + 200,000 + 4,000,000 nano-USD
    expectedNano: 5_400_000,
    tokens: { prompt: 1_000, completion: 500, cached: 400, reasoning: 200 },
  },
  {
    name: 'OpenAI gpt-5.4 above 272K prompt tokens: the whole request at the higher tier',
    model: 'gpt-5.4',
    reply: openaiJson(usage(300_000, 1_000, { prompt_tokens_details: { cached_tokens: 100_000 }, completion_tokens_details: { reasoning_tokens: 500 } })),
    // 200,000 × $5 + 100,000 × $0.50 + 1,000 × $22.50 per 1M
    expectedNano: 1_000_000_000 + 50_000_000 + 22_500_000,
    tokens: { prompt: 300_000, completion: 1_000, cached: 100_000, reasoning: 500 },
  },
  {
    name: 'OpenAI gpt-5.4 at exactly 272K prompt tokens: still the base tier',
    model: 'gpt-5.4',
    reply: openaiJson(usage(272_000, 10)),
    // 272,000 × $2.50 + 10 × $15 per 1M
    expectedNano: 680_000_000 + 150_000,
    tokens: { prompt: 272_000, completion: 10, cached: 0, reasoning: 0 },
  },
  {
    name: 'Anthropic claude-sonnet-4-5: cache reads, 5-minute and 1-hour cache writes priced apart',
    model: 'claude-sonnet-4-5-20250929',
    reply: anthropicMessage({
      input_tokens: 1_000, cache_read_input_tokens: 2_000, cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 }, output_tokens: 500,
    }),
    // 1,000 × $3 + 2,000 × $0.30 + 100 × $3.75 + 200 × $6 + 500 × $15 per 1M
    expectedNano: 3_000_000 + 600_000 + 375_000 + 1_200_000 + 7_500_000,
    tokens: { prompt: 3_300, completion: 500, cached: 2_000, reasoning: 0 },
  },
  {
    name: 'Gemini gemini-1.5-pro: context-cache reads and thoughts billed as output',
    model: 'gemini-1.5-pro',
    reply: geminiResponse({ promptTokenCount: 1_000, cachedContentTokenCount: 400, candidatesTokenCount: 300, thoughtsTokenCount: 200, totalTokenCount: 1_900 }),
    // 600 × $1.25 + 400 × $0.3125 + (300 + 200) × $5 per 1M
    expectedNano: 750_000 + 125_000 + 2_500_000,
    tokens: { prompt: 1_000, completion: 500, cached: 400, reasoning: 200 },
  },
  {
    name: 'Gemini gemini-1.5-flash above 128K: the higher tier',
    model: 'gemini-1.5-flash',
    reply: geminiResponse({ promptTokenCount: 200_000, candidatesTokenCount: 100, totalTokenCount: 200_100 }),
    // 200,000 × $0.15 + 100 × $0.60 per 1M
    expectedNano: 30_000_000 + 60_000,
    tokens: { prompt: 200_000, completion: 100, cached: 0, reasoning: 0 },
  },
  {
    name: 'Gemini gemini-1.5-flash: a fraction of a nano-dollar is rounded up once, on the total',
    model: 'gemini-1.5-flash',
    reply: geminiResponse({ promptTokenCount: 1_000, cachedContentTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 1_001 }),
    // 997 × $0.075 + 3 × $0.01875 + 1 × $0.30 per 1M = 74,775 + 56.25 + 300 = 75,131.25 → 75,132
    expectedNano: 75_132,
    tokens: { prompt: 1_000, completion: 1, cached: 3, reasoning: 0 },
  },
  {
    name: 'DeepSeek deepseek-r1: cache hit and miss fields',
    model: 'deepseek-r1',
    reply: openaiJson(usage(1_000, 500, { prompt_cache_hit_tokens: 600, prompt_cache_miss_tokens: 400, completion_tokens_details: { reasoning_tokens: 200 } })),
    // 400 × $0.55 + 600 × $0.14 + 500 × $2.19 per 1M
    expectedNano: 220_000 + 84_000 + 1_095_000,
    tokens: { prompt: 1_000, completion: 500, cached: 600, reasoning: 200 },
  },
  {
    name: 'xAI grok-3-mini: reasoning tokens reported outside completion_tokens',
    model: 'grok-3-mini',
    reply: openaiJson(usage(1_000, 300, { total_tokens: 1_500, prompt_tokens_details: { cached_tokens: 200 }, completion_tokens_details: { reasoning_tokens: 200 } })),
    // 800 × $0.30 + 200 × $0.075 + (300 + 200) × $0.50 per 1M
    expectedNano: 240_000 + 15_000 + 250_000,
    tokens: { prompt: 1_000, completion: 500, cached: 200, reasoning: 200 },
  },
  {
    name: 'OpenAI Responses o1-pro: reasoning inside output_tokens',
    model: 'o1-pro',
    reply: responsesResponse({ input_tokens: 1_000, input_tokens_details: { cached_tokens: 0 }, output_tokens: 500, output_tokens_details: { reasoning_tokens: 300 }, total_tokens: 1_500 }),
    // 1,000 × $150 + 500 × $600 per 1M
    expectedNano: 150_000_000 + 300_000_000,
    tokens: { prompt: 1_000, completion: 500, cached: 0, reasoning: 300 },
  },
];

describe('price math for every provider usage shape', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ credit: 100 });
  });
  after(async () => h?.close());

  for (const c of CASES) {
    it(c.name, async () => {
      const key = await h.createKey({ credit_usd: 100 });
      h.sim.enqueue(c.reply);
      const res = await postChat(h, key.key, { model: c.model, messages: [{ role: 'user', content: 'Price this.' }], max_tokens: 1_000 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [record] = await waitForUsage(h, key.id, 1);
      assert.deepEqual(
        { prompt: record.prompt_tokens, completion: record.completion_tokens, cached: record.cached_tokens, reasoning: record.reasoning_tokens },
        c.tokens,
      );
      assert.equal(record.cost_nano, c.expectedNano);
      assert.equal(record.cost_usd, c.expectedNano / 1e9);
    });
  }
});

describe('prices of a deployment and a fallback from the config file', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'omnigate-prices-'));
    const config = join(dir, 'omnigate.json');
    // A negotiated price for gpt-4o-mini on one deployment; the catalog's list price is $0.15 / $0.60.
    writeFileSync(config, JSON.stringify({ deployments: { 'gpt-4o-mini': [{ pricing: { input: 1, output: 3 } }] }, fallbacks: { 'gpt-4o-mini': ['gpt-4.1'] } }));
    h = await startHarness({ env: { OMNIGATE_CONFIG: config } });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('charges the deployment price, not the list price', async () => {
    h.sim.enqueue(openaiJson(usage(1_000, 100)));
    const res = await postChat(h, h.apiKey, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });
    assert.equal(res.status, 200);
    const [record] = await waitForUsage(h, h.keyId, 1);
    // 1,000 × $1 + 100 × $3 per 1M
    assert.equal(record.cost_nano, 1_000_000 + 300_000);
  });

  it('reserves for the dearest model the request may fall back to', async () => {
    // 1,000 output tokens: $0.003 on this gpt-4o-mini deployment, $0.008 on its fallback gpt-4.1.
    const key = await h.createKey({ credit_usd: 0.005 });
    const before = h.sim.requests.length;
    const res = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1_000 });
    assert.equal(res.status, 402);
    assert.equal(h.sim.requests.length, before);
    h.sim.enqueue(openaiJson(usage(10, 100)));
    const fits = await postChat(h, key.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 500 });
    assert.equal(fits.status, 200);
  });

  it('reserves the output of every one of n choices', async () => {
    // 1,000 output tokens of gpt-4.1 cost $0.008: one choice fits in $0.01, two do not.
    const key = await h.createKey({ credit_usd: 0.01 });
    assert.equal((await postChat(h, key.key, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1_000, n: 2 })).status, 402);
    h.sim.enqueue(openaiJson(usage(10, 100)));
    assert.equal((await postChat(h, key.key, { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1_000, n: 1 })).status, 200);
  });
});

describe('costNano', () => {
  const pricing = { input: 3, cachedInput: 0.3, output: 15 };
  const base = { inputTokens: 0, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 0, reasoningTokens: 0, promptTokens: 0 };

  it('prices Anthropic cache writes at 1.25× and 2× input when a model lists no write price', () => {
    // 100 × $3.75 + 100 × $6 per 1M
    assert.equal(costNano(pricing, { ...base, cacheWrite5mTokens: 100, cacheWrite1hTokens: 100, promptTokens: 200 }), 375_000 + 600_000);
  });

  it('prices cached input at the input price when a model has no cached price', () => {
    assert.equal(costNano({ input: 2, output: 10 }, { ...base, cachedInputTokens: 10, promptTokens: 10 }), 20_000);
  });

  it('is zero for no tokens and exact for one token of the cheapest price', () => {
    assert.equal(costNano(pricing, base), 0);
    // 1 token × $0.01875 per 1M = 18.75 nano-USD → 19
    assert.equal(costNano({ input: 0.075, cachedInput: 0.01875, output: 0.3 }, { ...base, cachedInputTokens: 1, promptTokens: 1 }), 19);
  });
});
