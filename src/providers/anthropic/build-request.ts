// Puts one Anthropic Messages request together from the converters: messages, parameters, tools,
// response format and thinking, then applies the rules that tie them together.

import type { ChatRequest, UpstreamHttpRequest, UpstreamTarget } from '../types.js';
import { convertMessages } from './convert-messages.js';
import { convertTools } from './convert-tools.js';
import { applyModelSamplingRules, applyThinkingRules, mapSamplingParams, responseFormatFor, thinkingFor, type ParamContext } from './params.js';
import type { MessagesRequest } from './wire-types.js';

/** The API version this adapter speaks; Anthropic requires the header on every call. */
export const ANTHROPIC_VERSION = '2023-06-01';

type OnDrop = (what: string, detail?: unknown) => void;

export function buildMessagesBody(req: ChatRequest, target: UpstreamTarget, stream: boolean, onDrop: OnDrop): MessagesRequest {
  const ctx: ParamContext = { model: target.model, upstreamModel: target.upstreamModel, onDrop };
  const { system, messages } = convertMessages(req.messages, onDrop);
  const sampling = mapSamplingParams(req, ctx);
  const tools = convertTools(req, ctx);
  const format = responseFormatFor(req.response_format, ctx);

  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const thinking = thinkingFor(req, sampling.max_tokens, {
    forcedTool: tools.forcedTool,
    continuesToolLoop: lastUser?.content.some((b) => b.type === 'tool_result') ?? false,
  }, ctx);
  if (thinking) applyThinkingRules(sampling, ctx);
  applyModelSamplingRules(sampling, ctx);

  const systemBlocks = [...(system ?? [])];
  if (format.systemInstruction) systemBlocks.push({ type: 'text', text: format.systemInstruction });

  const body: MessagesRequest = { model: target.upstreamModel, max_tokens: sampling.max_tokens, messages };
  if (systemBlocks.length > 0) body.system = systemBlocks;
  for (const field of ['temperature', 'top_p', 'top_k', 'stop_sequences', 'metadata'] as const) {
    if (sampling[field] !== undefined) (body as unknown as Record<string, unknown>)[field] = sampling[field];
  }
  if (tools.tools) body.tools = tools.tools;
  if (tools.tool_choice) body.tool_choice = tools.tool_choice;
  if (thinking) body.thinking = thinking;
  if (format.outputConfig) body.output_config = format.outputConfig;
  if (stream) body.stream = true;
  return body;
}

export function buildMessagesRequest(req: ChatRequest, target: UpstreamTarget, stream: boolean, onDrop: OnDrop): UpstreamHttpRequest {
  return {
    // The Anthropic base URL has no /v1 (DESIGN.md section 1).
    url: `${target.baseUrl.replace(/\/+$/, '')}/v1/messages`,
    headers: {
      'content-type': 'application/json',
      'x-api-key': target.apiKey,
      'anthropic-version': ANTHROPIC_VERSION,
    },
    body: JSON.stringify(buildMessagesBody(req, target, stream, onDrop)),
  };
}
