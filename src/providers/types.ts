// The canonical internal form is the OpenAI Chat Completions request, response and chunk.
// Every adapter translates between these types and its upstream's wire format, and nothing else:
// no I/O, no billing, no routing. See DESIGN.md section 6.

import type { ModelEntry } from '../catalog/types.js';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

/** Parts we accept from clients but that not every upstream understands (input_audio, file). */
export interface OtherPart {
  type: string;
  [key: string]: unknown;
}

export type UserContentPart = TextPart | ImagePart | OtherPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextPart[];
  name?: string;
}

export interface UserMessage {
  role: 'user';
  content: string | UserContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content?: string | null | Array<TextPart | RefusalPart>;
  tool_calls?: ToolCall[];
  reasoning_content?: string | null;
  refusal?: string | null;
  name?: string;
}

export interface ToolMessage {
  role: 'tool';
  tool_call_id: string;
  content: string | TextPart[];
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
    };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

/** A validated client request (validation happens once in src/gateway/validate-request.ts). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  n?: number;
  stop?: string | string[];
  max_tokens?: number;
  max_completion_tokens?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  seed?: number;
  user?: string;
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  reasoning_effort?: ReasoningEffort;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  [passthrough: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
}

/**
 * What billing needs beyond the OpenAI usage object. Adapters fill it from the upstream's own
 * usage so that each provider's cost formula (pricing.md) can be applied exactly.
 */
export interface BillableUsage {
  /** Input tokens billed at the full input price (excludes cache reads and writes). */
  inputTokens: number;
  cachedInputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  /** Output tokens including reasoning tokens. */
  outputTokens: number;
  reasoningTokens: number;
  /** Whole prompt size, used to pick a price tier (Gemini 1.5 > 128K, gpt-5.4 > 272K). */
  promptTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  reasoning_content?: string;
  tool_calls?: ToolCall[];
  [extra: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatCompletionMessage;
    logprobs: unknown;
    finish_reason: FinishReason | null;
  }>;
  usage?: Usage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
  [extra: string]: unknown;
}

export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string | null;
  refusal?: string | null;
  tool_calls?: ChunkToolCallDelta[];
  [extra: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: ChunkDelta; logprobs?: unknown; finish_reason: FinishReason | null }>;
  usage?: Usage | null;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

/** The OpenAI error envelope body. */
export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/**
 * An upstream failure already mapped to what the client should see. Thrown by stream translators
 * when the upstream sends an error event mid-stream, and returned by mapError.
 */
export class ProviderError extends Error {
  constructor(
    readonly status: number,
    readonly error: OpenAIErrorBody,
    /** Whether a retry or the next deployment could succeed (429, 5xx, overloaded). */
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
    this.name = 'ProviderError';
  }
}

/** Where a request goes: resolved by the gateway from the catalog, config and environment. */
export interface UpstreamTarget {
  /** Base URL as configured (OpenAI-style bases include /v1; Anthropic and Gemini bases do not). */
  baseUrl: string;
  apiKey: string;
  /** The model id the upstream knows (deepseek-r1 → deepseek-reasoner). */
  upstreamModel: string;
  model: ModelEntry;
}

export interface UpstreamHttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One server-sent event as parsed from the upstream byte stream. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Passed to translators so that what cannot be translated is dropped and logged, never thrown. */
export interface TranslateContext {
  /** The model id the client asked for; it becomes `model` in every response and chunk. */
  requestedModel: string;
  /** The catalog entry being served, for model-specific quirks. */
  model?: ModelEntry;
  onDrop(what: string, detail?: unknown): void;
}

export interface StreamTranslator {
  /** Translate one upstream event into zero or more chunks. Throws ProviderError on an upstream error event. */
  push(event: SseEvent): ChatCompletionChunk[];
  /** The upstream stream ended; emit what is still owed (e.g. a finish chunk). */
  finish(): ChatCompletionChunk[];
  /** The upstream's usage in billable form, once it has been seen. */
  billableUsage(): BillableUsage | undefined;
}

export interface ParsedResponse {
  completion: ChatCompletion;
  billable: BillableUsage;
}

export interface ProviderAdapter {
  name: string;
  /** 'inline': the gateway fetches http(s) image URLs and hands data: URIs to buildRequest. */
  imageUrls: 'pass' | 'inline';
  /** false: the upstream cannot stream this model; the gateway calls it whole and synthesises chunks. */
  supportsStreaming(model: ModelEntry): boolean;
  /** opts.onDrop (optional): where request fields the upstream cannot take are reported, as in TranslateContext. */
  buildRequest(
    req: ChatRequest,
    target: UpstreamTarget,
    opts: { stream: boolean; onDrop?: (what: string, detail?: unknown) => void },
  ): UpstreamHttpRequest;
  parseResponse(body: unknown, ctx: TranslateContext): ParsedResponse;
  createStreamTranslator(ctx: TranslateContext): StreamTranslator;
  mapError(status: number, bodyText: string, headers: Record<string, string | string[] | undefined>): ProviderError;
}
