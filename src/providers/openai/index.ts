// The OpenAI Chat Completions dialect: OpenAI itself, DeepSeek, xAI and any OpenAI-compatible server
// (vLLM, Ollama). Vendor differences are catalog quirks applied in params.ts.

import type { ProviderAdapter } from '../types.js';
import { shapeBody } from './params.js';
import { parseOpenAIResponse } from './parse-response.js';
import { createOpenAIStreamTranslator } from './parse-stream.js';
import { mapOpenAIError } from './map-error.js';

export const openaiAdapter: ProviderAdapter = {
  name: 'openai',
  imageUrls: 'pass',
  supportsStreaming: (model) => model.capabilities.streaming !== false,
  buildRequest(req, target, { stream }) {
    return {
      url: `${target.baseUrl}/chat/completions`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
      body: JSON.stringify(shapeBody(req, target.upstreamModel, target.model.quirks ?? {}, stream)),
    };
  },
  parseResponse: parseOpenAIResponse,
  createStreamTranslator: createOpenAIStreamTranslator,
  mapError: mapOpenAIError,
};
