// The Anthropic Messages dialect (every Claude model). Images go upstream as given: Anthropic fetches
// http(s) image URLs itself (`source: {type: "url"}`), and data: URIs become base64 sources.

import type { ProviderAdapter } from '../types.js';
import { buildMessagesRequest } from './build-request.js';
import { mapAnthropicError } from './map-error.js';
import { parseAnthropicResponse } from './parse-response.js';
import { createAnthropicStreamTranslator } from './parse-stream.js';

const ignoreDrop = () => {};

export const anthropicAdapter: ProviderAdapter = {
  name: 'anthropic',
  imageUrls: 'pass',
  supportsStreaming: (model) => model.capabilities.streaming !== false,
  buildRequest: (req, target, opts) => buildMessagesRequest(req, target, opts.stream, opts.onDrop ?? ignoreDrop),
  parseResponse: parseAnthropicResponse,
  createStreamTranslator: createAnthropicStreamTranslator,
  mapError: mapAnthropicError,
};
