// Catalog entries are data (models.json, plus the optional config file); these types are their shape.

export type Dialect = 'openai' | 'anthropic' | 'gemini' | 'openai-responses';

export interface PriceTable {
  /** USD per 1M tokens, as list prices are published. Converted to integer pico-USD per token at load. */
  input: number;
  cachedInput?: number;
  output: number;
  /** Anthropic cache writes; default 1.25× and 2× input. */
  cacheWrite5m?: number;
  cacheWrite1h?: number;
}

export interface PriceTier extends PriceTable {
  /** The whole request is priced at this tier when its prompt has more tokens than this. */
  aboveInputTokens: number;
}

export interface ModelPricing extends PriceTable {
  tiers?: PriceTier[];
}

export interface ModelQuirks {
  /** Request fields the upstream rejects for this model; removed before sending. */
  dropParams?: string[];
  /** Which field carries the output cap upstream. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** How system messages reach a model that refuses them (o1-mini): folded into the first user turn. */
  systemRole?: 'system' | 'developer' | 'user';
  /** Accepted reasoning_effort values; others are mapped to the nearest or dropped. */
  reasoningEfforts?: string[];
  /** xAI reports completion_tokens without reasoning tokens. */
  completionExcludesReasoning?: boolean;
  /** DeepSeek R1 rejects reasoning_content in history. */
  stripHistoryReasoning?: boolean;
  /** The upstream only accepts text parts: flatten content arrays to a string. */
  textOnlyContent?: boolean;
}

export interface ModelEntry {
  id: string;
  provider: string;
  upstreamModel: string;
  contextWindow: number;
  maxOutput: number;
  capabilities: { vision: boolean; tools: boolean; reasoning: boolean; streaming?: boolean };
  pricing: ModelPricing;
  quirks?: ModelQuirks;
  /** Overrides the provider's dialect (o1-pro is served only by OpenAI's Responses API). */
  dialect?: Dialect;
  /** Set for aliases from the config file: the id the alias points at. */
  aliasOf?: string;
}

export interface ProviderEntry {
  id: string;
  dialect: Dialect;
  baseUrlEnv: string;
  apiKeyEnv: string;
  defaultBaseUrl: string;
}
