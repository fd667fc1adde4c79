// The model catalog: models.json merged with the config file, indexed once at start.

import { createRequire } from 'node:module';
import type { Config, DeploymentConfig } from '../config.js';
import type { Dialect, ModelEntry, PriceTable, ProviderEntry } from './types.js';

const require = createRequire(import.meta.url);
const builtin = require('./models.json') as { providers: ProviderEntry[]; models: ModelEntry[] };

/** One place a model can be served from: a base URL, a key, and the model id there. */
export interface Deployment {
  id: string;
  provider: string;
  dialect: Dialect;
  baseUrl: string;
  /** Empty when the provider's key variable is unset: such a model answers 503 provider_not_configured. */
  apiKey: string;
  apiKeyEnv: string;
  upstreamModel: string;
  weight: number;
  pricing?: PriceTable;
}

export interface ResolvedModel {
  /** The id the client asked for (an alias stays an alias here; it is echoed back). */
  requestedId: string;
  entry: ModelEntry;
  dialect: Dialect;
  deployments: Deployment[];
  /** Other model ids to try, in order, when every deployment of this one failed before the first byte. */
  fallbacks: string[];
}

export class Catalog {
  private readonly models = new Map<string, ModelEntry>();
  private readonly providers = new Map<string, ProviderEntry & { baseUrl?: string }>();
  private readonly resolved = new Map<string, ResolvedModel>();
  private readonly chains = new WeakMap<ResolvedModel, ResolvedModel[]>();

  constructor(private readonly config: Pick<Config, 'file' | 'env'>) {
    for (const p of builtin.providers) this.providers.set(p.id, p);
    for (const p of config.file.providers) {
      this.providers.set(p.id, {
        id: p.id,
        dialect: p.dialect,
        baseUrl: p.baseUrl,
        baseUrlEnv: '',
        apiKeyEnv: p.apiKeyEnv ?? '',
        defaultBaseUrl: p.baseUrl,
      });
    }
    for (const m of builtin.models) this.models.set(m.id, m);
    for (const m of config.file.models) this.models.set(m.id, m as ModelEntry);
    for (const [id, pricing] of Object.entries(config.file.prices)) {
      const m = this.models.get(id);
      if (!m) throw new Error(`OMNIGATE_CONFIG prices.${id}: no such model`);
      this.models.set(id, { ...m, pricing: { ...m.pricing, ...pricing } });
    }
    for (const [alias, target] of Object.entries(config.file.aliases)) {
      const m = this.models.get(target);
      if (!m) throw new Error(`OMNIGATE_CONFIG aliases.${alias}: no such model ${target}`);
      this.models.set(alias, { ...m, id: alias, aliasOf: target });
    }
    for (const m of this.models.values()) {
      if (!this.providers.has(m.provider)) throw new Error(`model ${m.id}: unknown provider ${m.provider}`);
      this.resolved.set(m.id, this.resolve(m));
    }
    for (const [id, chain] of Object.entries(config.file.fallbacks)) {
      for (const f of [id, ...chain]) {
        if (!this.models.has(f)) throw new Error(`OMNIGATE_CONFIG fallbacks.${id}: no such model ${f}`);
      }
    }
  }

  private resolve(m: ModelEntry): ResolvedModel {
    const provider = this.providers.get(m.provider)!;
    const dialect = m.dialect ?? provider.dialect;
    const envBase = provider.baseUrlEnv ? this.config.env[provider.baseUrlEnv] : undefined;
    const baseUrl = (envBase ?? provider.baseUrl ?? provider.defaultBaseUrl).replace(/\/+$/, '');
    const key = (name: string) => (name ? this.config.env[name] ?? '' : '');
    const configured: DeploymentConfig[] | undefined =
      this.config.file.deployments[m.id] ?? (m.aliasOf ? this.config.file.deployments[m.aliasOf] : undefined);
    const deployments: Deployment[] = (configured ?? [{ weight: 1 }]).map((d, i) => ({
      id: `${m.aliasOf ?? m.id}#${i}`,
      provider: m.provider,
      dialect,
      baseUrl: (d.baseUrl ?? baseUrl).replace(/\/+$/, ''),
      apiKeyEnv: d.apiKeyEnv ?? provider.apiKeyEnv,
      apiKey: key(d.apiKeyEnv ?? provider.apiKeyEnv),
      upstreamModel: d.upstreamModel ?? m.upstreamModel,
      weight: d.weight ?? 1,
      pricing: d.pricing,
    }));
    const fallbacks = this.config.file.fallbacks[m.id] ?? (m.aliasOf ? this.config.file.fallbacks[m.aliasOf] : undefined);
    return { requestedId: m.id, entry: m, dialect, deployments, fallbacks: fallbacks ?? [] };
  }

  get(id: string): ResolvedModel | undefined {
    return this.resolved.get(id);
  }

  /**
   * The model, then its fallbacks in order: everything that may serve a request for it. Built once per
   * model (the catalog does not change while running), since reserving and routing both walk it per request.
   */
  chainOf(model: ResolvedModel): ResolvedModel[] {
    let chain = this.chains.get(model);
    if (!chain) {
      chain = [model, ...model.fallbacks.map((id) => this.resolved.get(id)).filter((m): m is ResolvedModel => !!m)];
      this.chains.set(model, chain);
    }
    return chain;
  }

  list(): ModelEntry[] {
    return [...this.models.values()];
  }

  providerIds(): string[] {
    return [...this.providers.keys()];
  }
}

/** USD per 1M tokens → integer pico-USD per token (0.01875 $/M = 18,750 p$/token), exact for list prices. */
export function picoPerToken(usdPerMillion: number): number {
  return Math.round(usdPerMillion * 1_000_000);
}
