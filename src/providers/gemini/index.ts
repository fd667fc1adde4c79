// The Google Gemini (Generative Language API v1beta, generateContent) adapter.

import type { ChatRequest, ProviderAdapter, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { convertMessages } from './convert-messages.js';
import { convertTools } from './convert-tools.js';
import { mapGeminiError } from './map-error.js';
import { buildGenerationConfig } from './params.js';
import { parseGeminiResponse } from './parse-response.js';
import { createGeminiStreamTranslator } from './parse-stream.js';

type OnDrop = (what: string, detail?: unknown) => void;

/**
 * Google documents this value for replayed function calls whose real signature is gone; Gemini 3
 * rejects replayed calls without one ("Function call is missing a thought_signature").
 */
const SKIP_SIGNATURE = 'skip_thought_signature_validator';

function requiresThoughtSignature(upstreamModel: string): boolean {
  return /^(models\/)?gemini-3/.test(upstreamModel);
}

/** `{base}/v1beta/models/{m}:generateContent`; a base configured with /v1beta already is accepted too. */
export function geminiUrl(baseUrl: string, upstreamModel: string, stream: boolean): string {
  const base = baseUrl.replace(/\/+$/, '').replace(/\/v1beta$/, '');
  const model = encodeURIComponent(upstreamModel.replace(/^models\//, ''));
  return stream ? `${base}/v1beta/models/${model}:streamGenerateContent?alt=sse` : `${base}/v1beta/models/${model}:generateContent`;
}

export function buildGeminiRequest(
  req: ChatRequest,
  target: UpstreamTarget,
  opts: { stream: boolean; onDrop?: OnDrop },
): UpstreamHttpRequest {
  const onDrop: OnDrop = opts.onDrop ?? (() => {});
  const { contents, systemInstruction } = convertMessages(req.messages, {
    onDrop,
    functionCallSignature: requiresThoughtSignature(target.upstreamModel) ? SKIP_SIGNATURE : undefined,
  });
  const { tools, toolConfig } = convertTools(req.tools, req.tool_choice, onDrop);
  const generationConfig = buildGenerationConfig(req, { model: target.model, upstreamModel: target.upstreamModel, onDrop });
  const body = {
    contents,
    ...(systemInstruction ? { systemInstruction } : {}),
    ...(tools ? { tools } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    ...(generationConfig ? { generationConfig } : {}),
  };
  return {
    url: geminiUrl(target.baseUrl, target.upstreamModel, opts.stream),
    // The key goes in a header, never in the URL, where proxies and logs would keep it.
    headers: { 'content-type': 'application/json', 'x-goog-api-key': target.apiKey },
    body: JSON.stringify(body),
  };
}

export const geminiAdapter: ProviderAdapter = {
  name: 'gemini',
  imageUrls: 'inline',
  supportsStreaming: (model) => model.capabilities.streaming !== false,
  buildRequest: buildGeminiRequest,
  parseResponse: parseGeminiResponse,
  createStreamTranslator: createGeminiStreamTranslator,
  mapError: mapGeminiError,
};
