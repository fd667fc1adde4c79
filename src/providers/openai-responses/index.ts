// The OpenAI Responses API dialect (POST {base}/responses): the only way to reach o1-pro, and the API
// xAI also serves. Chat requests are translated into it and its answers back into chat form.

import type { ChatRequest, ProviderAdapter, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { convertMessages } from './convert-messages.js';
import { convertToolChoice, convertTools } from './convert-tools.js';
import { mapResponsesError } from './map-error.js';
import { convertParams, type DropReporter } from './params.js';
import { parseResponsesResponse } from './parse-response.js';
import { createResponsesStreamTranslator } from './parse-stream.js';

const ignoreDrop: DropReporter = () => {};

/**
 * The Responses request body for a chat request; `onDrop` hears about every field that has no
 * Responses form.
 */
export function buildResponsesBody(req: ChatRequest, target: UpstreamTarget, stream: boolean, onDrop: DropReporter = ignoreDrop) {
  const { instructions, input } = convertMessages(req.messages, onDrop);
  const tools = req.tools?.length ? convertTools(req.tools) : undefined;
  const toolChoice = tools && req.tool_choice !== undefined ? convertToolChoice(req.tool_choice, onDrop) : undefined;
  if (!tools && req.tool_choice !== undefined) onDrop('tool_choice', { reason: 'no tools were given' });
  return {
    model: target.upstreamModel,
    ...(instructions !== undefined ? { instructions } : {}),
    input,
    ...(tools ? { tools } : {}),
    ...(toolChoice !== undefined ? { tool_choice: toolChoice } : {}),
    ...convertParams(req, target.model, onDrop),
    // Usage always arrives in response.completed; there is no include_usage to ask for.
    ...(stream ? { stream: true } : {}),
  };
}

export const openaiResponsesAdapter: ProviderAdapter = {
  name: 'openai-responses',
  imageUrls: 'pass',
  // o1-pro's catalog entry says streaming:false (OpenAI rejects stream:true for the -pro models):
  // the pipeline then calls it whole and replays the answer with completionToChunks.
  supportsStreaming: (model) => model.capabilities.streaming !== false,
  buildRequest(req, target, { stream, onDrop }): UpstreamHttpRequest {
    return {
      url: `${target.baseUrl.replace(/\/+$/, '')}/responses`,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${target.apiKey}`,
        ...(stream ? { accept: 'text/event-stream' } : {}),
      },
      body: JSON.stringify(buildResponsesBody(req, target, stream, onDrop)),
    };
  },
  parseResponse: parseResponsesResponse,
  createStreamTranslator: createResponsesStreamTranslator,
  mapError: mapResponsesError,
};

export { completionToChunks } from './synthesize-chunks.js';
