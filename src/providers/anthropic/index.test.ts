import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { ModelEntry } from '../../catalog/types.js';
import { ProviderError } from '../types.js';
import { adapters } from '../index.js';
import { anthropicAdapter } from './index.js';
import { loadChunks, loadJson } from '../../../test/fixtures/load.js';

const catalog = createRequire(import.meta.url)('../../catalog/models.json') as { models: ModelEntry[] };
const sonnet = catalog.models.find((m) => m.id === 'claude-sonnet-4-6')!;

describe('anthropicAdapter', () => {
  test('is the adapter registered for the anthropic dialect, passing image URLs through', () => {
    assert.equal(adapters.anthropic, anthropicAdapter);
    assert.equal(anthropicAdapter.name, 'anthropic');
    assert.equal(anthropicAdapter.imageUrls, 'pass');
    assert.equal(anthropicAdapter.supportsStreaming(sonnet), true);
  });

  test('builds, parses, streams and maps errors end to end on recorded traffic', () => {
    const drops: string[] = [];
    const request = anthropicAdapter.buildRequest(
      { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hello' }], seed: 1 },
      { baseUrl: 'http://127.0.0.1:9', apiKey: 'k', upstreamModel: 'claude-sonnet-4-6', model: sonnet },
      { stream: true, onDrop: (w) => drops.push(w) },
    );
    assert.equal(request.url, 'http://127.0.0.1:9/v1/messages');
    assert.equal(JSON.parse(request.body).stream, true);
    assert.deepEqual(drops, ['seed']);

    const ctx = { requestedModel: 'claude-sonnet-4-6', onDrop() {} };
    assert.equal(anthropicAdapter.parseResponse(loadJson('anthropic/anthropic-text.json'), ctx).completion.model, 'claude-sonnet-4-6');
    const t = anthropicAdapter.createStreamTranslator(ctx);
    const chunks = loadChunks('anthropic/anthropic-text.chunks.txt').flatMap((e) => t.push(e));
    assert.ok(chunks.length > 3);
    assert.ok(anthropicAdapter.mapError(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', {}) instanceof ProviderError);
  });

  test('buildRequest works without an onDrop (it is optional in the contract)', () => {
    const request = anthropicAdapter.buildRequest(
      { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hello' }], seed: 1 },
      { baseUrl: 'http://127.0.0.1:9', apiKey: 'k', upstreamModel: 'claude-sonnet-4-6', model: sonnet },
      { stream: false },
    );
    assert.equal(JSON.parse(request.body).seed, undefined);
  });
});
