// Cost of a request in integer nano-USD from its billable usage, by the formulas of pricing.md.
// Prices are list prices in USD per 1M tokens; the arithmetic runs in pico-USD per token so that
// prices such as $0.01875/M stay exact, and the total is rounded up to the nano-dollar once.

import type { ModelEntry, ModelPricing, PriceTable } from '../catalog/types.js';
import type { BillableUsage } from '../providers/types.js';

const pico = (usdPerMillion: number | undefined): number => Math.round((usdPerMillion ?? 0) * 1_000_000);

/**
 * The prices of a model as served by one deployment. A deployment's own price table (config file)
 * replaces the catalog's whole, tiers included: it is a different contract, not a discount on the list.
 */
export function pricingOf(entry: ModelEntry, deployment?: { pricing?: PriceTable }): ModelPricing {
  return deployment?.pricing ?? entry.pricing;
}

/** The price table that applies to a prompt of this size (the whole request at the higher tier). */
export function priceFor(pricing: ModelPricing, promptTokens: number): PriceTable {
  let table: PriceTable = pricing;
  for (const tier of pricing.tiers ?? []) {
    if (promptTokens > tier.aboveInputTokens) table = tier;
  }
  return table;
}

export function costNano(pricing: ModelPricing, usage: BillableUsage): number {
  const p = priceFor(pricing, usage.promptTokens);
  const cached = p.cachedInput ?? p.input;
  const write5m = p.cacheWrite5m ?? p.input * 1.25;
  const write1h = p.cacheWrite1h ?? p.input * 2;
  const totalPico =
    usage.inputTokens * pico(p.input) +
    usage.cachedInputTokens * pico(cached) +
    usage.cacheWrite5mTokens * pico(write5m) +
    usage.cacheWrite1hTokens * pico(write1h) +
    usage.outputTokens * pico(p.output);
  return Math.ceil(totalPico / 1000);
}

/** Nano-USD per output token at the tier for this prompt size, for sizing reservations. */
export function outputNanoPerToken(pricing: ModelPricing, promptTokens: number): number {
  return pico(priceFor(pricing, promptTokens).output) / 1000;
}

export function inputNanoPerToken(pricing: ModelPricing, promptTokens: number): number {
  return pico(priceFor(pricing, promptTokens).input) / 1000;
}

export const usdToNano = (usd: number): number => Math.round(usd * 1e9);
export const nanoToUsd = (nano: number): number => Number((nano / 1e9).toFixed(9));
