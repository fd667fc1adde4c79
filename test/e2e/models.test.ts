// GET /v1/models: the OpenAI list shape plus the omnigate block, for every model of the catalog.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.js';

const CATALOG = [
  'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'o1', 'o1-mini', 'o1-pro', 'gpt-5', 'gpt-5.4', 'gpt-5-mini',
  'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-opus-4-5-20251101', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-20250514',
  'claude-haiku-4-5-20251001', 'claude-3-5-sonnet-20241022', 'claude-3-opus-20240229', 'gemini-1.5-pro', 'gemini-1.5-flash',
  'deepseek-r1', 'deepseek-r1-0528', 'deepseek-v3', 'deepseek-v3-250324', 'grok-4', 'grok-3', 'grok-3-fast', 'grok-3-mini', 'grok-2-vision-1212',
];

describe('models', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { XAI_API_KEY: '' } });
  });
  after(() => h.close());

  test('the list holds all 30 catalog models in the OpenAI shape', async () => {
    const ids: string[] = [];
    for await (const model of h.client.models.list()) {
      ids.push(model.id);
      assert.equal(model.object, 'model');
      assert.equal(typeof model.created, 'number');
    }
    assert.deepEqual([...ids].sort(), [...CATALOG].sort());
  });

  test('each model carries provider, limits, capabilities and list prices', async () => {
    const sonnet = (await h.client.models.retrieve('claude-sonnet-4-6')) as any;
    assert.equal(sonnet.omnigate.provider, 'anthropic');
    assert.equal(sonnet.omnigate.context_window, 1_000_000);
    assert.deepEqual(sonnet.omnigate.capabilities, { vision: true, tools: true, reasoning: true, streaming: true });
    assert.deepEqual([sonnet.omnigate.pricing.input, sonnet.omnigate.pricing.cached_input, sonnet.omnigate.pricing.output], [3, 0.3, 15]);
    const r1 = (await h.client.models.retrieve('deepseek-r1')) as any;
    assert.equal(r1.omnigate.upstream_model, 'deepseek-reasoner');
    const flash = (await h.client.models.retrieve('gemini-1.5-flash')) as any;
    assert.deepEqual(flash.omnigate.pricing.tiers, [{ above_input_tokens: 128000, input: 0.15, cached_input: 0.0375, output: 0.6 }]);
  });

  test('a provider without a key is listed but marked not configured', async () => {
    const grok = (await h.client.models.retrieve('grok-3')) as any;
    assert.equal(grok.omnigate.configured, false);
    assert.equal(((await h.client.models.retrieve('gpt-4o')) as any).omnigate.configured, true);
  });

  test('an unknown id is 404 model_not_found', async () => {
    await assert.rejects(h.client.models.retrieve('nope-1'), (err: any) => err.status === 404 && err.code === 'model_not_found');
  });

  test('healthz answers ok without a key', async () => {
    const res = await fetch(`${h.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});
