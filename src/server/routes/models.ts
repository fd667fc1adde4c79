// GET /v1/models and /v1/models/{id}: the OpenAI list shape plus an `omnigate` block per model.

import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import type { ModelEntry } from '../../catalog/types.js';
import { modelNotFound } from '../../gateway/errors.js';
import type { authenticate } from '../app.js';

/** A fixed creation time: the catalog is data, and OpenAI clients only need a plausible integer. */
const CREATED = 1_700_000_000;

export function describeModel(m: ModelEntry, configured: boolean) {
  return {
    id: m.id,
    object: 'model' as const,
    created: CREATED,
    owned_by: m.provider,
    omnigate: {
      provider: m.provider,
      upstream_model: m.upstreamModel,
      alias_of: m.aliasOf ?? null,
      configured,
      context_window: m.contextWindow,
      max_output_tokens: m.maxOutput,
      capabilities: {
        vision: m.capabilities.vision,
        tools: m.capabilities.tools,
        reasoning: m.capabilities.reasoning,
        streaming: m.capabilities.streaming !== false,
      },
      pricing: {
        currency: 'USD',
        unit: '1M tokens',
        input: m.pricing.input,
        cached_input: m.pricing.cachedInput ?? null,
        output: m.pricing.output,
        cache_write_5m: m.pricing.cacheWrite5m ?? null,
        cache_write_1h: m.pricing.cacheWrite1h ?? null,
        tiers: (m.pricing.tiers ?? []).map((t) => ({ above_input_tokens: t.aboveInputTokens, input: t.input, cached_input: t.cachedInput ?? null, output: t.output })),
      },
    },
  };
}

export function registerModelRoutes(app: FastifyInstance, gw: Gateway, auth: authenticate): void {
  const isConfigured = (id: string) => gw.catalog.get(id)?.deployments.some((d) => d.apiKey) ?? false;
  // Built once: the catalog does not change while the process runs.
  const list = { object: 'list' as const, data: gw.catalog.list().map((m) => describeModel(m, isConfigured(m.id))) };
  const byId = new Map(list.data.map((m) => [m.id, m]));

  app.get('/v1/models', async (request) => {
    await auth(request);
    return list;
  });

  app.get<{ Params: { id: string } }>('/v1/models/*', async (request) => {
    await auth(request);
    // Model ids may contain slashes (e.g. config-file models like "ollama/llama3"), hence the wildcard.
    const id = (request.params as Record<string, string>)['*'];
    const model = byId.get(id);
    if (!model) throw modelNotFound(id);
    return model;
  });
}
