// Everything decided before any upstream is called: which model, whether this key may use it with
// this request, and a credit reservation for the worst case.

import { adapters } from '../providers/index.js';
import type { ChatRequest, ProviderAdapter } from '../providers/types.js';
import type { ResolvedModel } from '../catalog/catalog.js';
import { reserveCredit, type Reservation } from '../billing/credit.js';
import { estimatePromptTokens } from '../billing/estimate-tokens.js';
import { inputNanoPerToken, nanoToUsd, outputNanoPerToken } from '../billing/prices.js';
import type { CallerKey, Gateway } from './gateway.js';
import { hasImages } from './inline-images.js';
import { insufficientQuota, invalidRequest, modelNotAllowed, modelNotFound, providerNotConfigured } from './errors.js';

/** Tokenizers differ between vendors by a few tens of percent: reserve for the larger count. */
const PROMPT_ESTIMATE_MARGIN = 1.3;

export interface PreparedCall {
  model: ResolvedModel;
  adapter: ProviderAdapter;
  request: ChatRequest;
  promptTokensEstimate: number;
  reservation: Reservation;
  /** Set when the key's balance cannot cover the model's full output: the upstream is capped to this. */
  affordableOutputTokens?: number;
}

export function resolveModel(gw: Gateway, key: CallerKey, request: ChatRequest): ResolvedModel {
  const model = gw.catalog.get(request.model);
  if (!model) throw modelNotFound(request.model);
  if (key.models && !key.models.includes(request.model)) throw modelNotAllowed(request.model);
  checkCapabilities(model, request);
  if (!model.deployments.some((d) => d.apiKey)) throw providerNotConfigured(model.entry.provider);
  return model;
}

export function checkCapabilities(model: ResolvedModel, request: ChatRequest): void {
  const caps = model.entry.capabilities;
  if (!caps.vision && hasImages(request.messages)) {
    throw invalidRequest(`The model \`${request.model}\` does not support image input.`, 'messages', 'image_not_supported');
  }
  if (!caps.tools && request.tools?.length) {
    throw invalidRequest(`The model \`${request.model}\` does not support tools.`, 'tools', 'tools_not_supported');
  }
}

export async function prepareCall(gw: Gateway, key: CallerKey, request: ChatRequest): Promise<PreparedCall> {
  const model = resolveModel(gw, key, request);
  const adapter = adapters[model.dialect];
  const promptTokens = Math.ceil(estimatePromptTokens(request.messages, request.tools) * PROMPT_ESTIMATE_MARGIN);
  const pricing = model.entry.pricing;
  const promptCost = Math.ceil(promptTokens * inputNanoPerToken(pricing, promptTokens));
  const perOutput = outputNanoPerToken(pricing, promptTokens);
  const asked = request.max_completion_tokens ?? request.max_tokens;
  const wanted = Math.min(asked ?? model.entry.maxOutput, model.entry.maxOutput);
  let affordable: number | undefined;
  const outcome = await reserveCredit(
    gw.store,
    key.id,
    (available) => {
      const full = promptCost + Math.ceil(wanted * perOutput);
      if (full <= available) return full;
      // An explicit max_tokens the key cannot afford is refused; the model's default cap is lowered
      // to what the balance covers, and that cap is sent upstream so the key cannot overspend.
      if (asked !== undefined || perOutput === 0) return 0;
      const tokens = Math.floor((available - promptCost) / perOutput);
      if (tokens < 1) return 0;
      affordable = tokens;
      return promptCost + Math.ceil(tokens * perOutput);
    },
    gw.config.timeouts.totalMs + 60_000,
  );
  if (!outcome.ok) {
    throw insufficientQuota(
      `Your balance ($${nanoToUsd(Math.max(0, outcome.availableNano))} available) cannot cover this request to ${request.model}. ` +
        'Add credit or lower max_tokens.',
    );
  }
  const shaped = affordable === undefined ? request : { ...request, max_tokens: undefined, max_completion_tokens: affordable };
  return { model, adapter, request: shaped, promptTokensEstimate: promptTokens, reservation: outcome.reservation, affordableOutputTokens: affordable };
}
