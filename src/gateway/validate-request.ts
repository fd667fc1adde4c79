// The one place a client's chat request is validated. Everything after this trusts ChatRequest.
// Unknown top-level fields pass through (OpenAI adds fields often: store, metadata, service_tier…);
// known fields with the wrong type or range are a 400 naming the field, as OpenAI does.

import { z } from 'zod';
import type { ChatRequest } from '../providers/types.js';
import { invalidRequest } from './errors.js';
import { IMAGE_MAX_BYTES } from './inline-images.js';
import { commonChatRequest } from './validate-common.js';

/** OpenAI's own limit on the messages array; larger histories are refused before any work is done. */
export const DEFAULT_MAX_MESSAGES = 2048;
/** A data: URI of an image at the size cap that fetched images have, base64-encoded, plus its header. */
const IMAGE_URL_MAX_CHARS = Math.ceil(IMAGE_MAX_BYTES / 3) * 4 + 256;

const text = z.object({ type: z.literal('text'), text: z.string() }).loose();
const image = z
  .object({
    type: z.literal('image_url'),
    image_url: z.object({ url: z.string().min(1).max(IMAGE_URL_MAX_CHARS, `images are limited to ${IMAGE_MAX_BYTES / 1024 / 1024} MB`), detail: z.enum(['auto', 'low', 'high']).optional() }).loose(),
  })
  .loose();
const otherPart = z.object({ type: z.enum(['input_audio', 'file']) }).loose();
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() }).loose();

const textContent = z.union([z.string(), z.array(text)]);
const toolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal('function').default('function'),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).loose(),
  })
  .loose();

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContent, name: z.string().optional() }).loose(),
  z.object({ role: z.literal('developer'), content: textContent, name: z.string().optional() }).loose(),
  z
    .object({
      role: z.literal('user'),
      content: z.union([z.string(), z.array(z.union([text, image, otherPart])).min(1)]),
      name: z.string().optional(),
    })
    .loose(),
  z
    .object({
      role: z.literal('assistant'),
      content: z.union([z.string(), z.null(), z.array(z.union([text, refusal]))]).optional(),
      tool_calls: z.array(toolCall).optional(),
      reasoning_content: z.string().nullable().optional(),
      refusal: z.string().nullable().optional(),
      name: z.string().optional(),
    })
    .loose(),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: textContent }).loose(),
  // The deprecated function role is treated like a tool result (OpenAI still accepts it).
  z
    .object({ role: z.literal('function'), name: z.string().min(1), content: z.string().nullable() })
    .loose()
    .transform((m) => ({ role: 'tool' as const, tool_call_id: m.name, content: m.content ?? '' })),
]);

const functionTool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      })
      .loose(),
  })
  .loose();

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }).loose(),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).loose(),
  z.object({ type: z.literal('json_object') }).loose(),
  z
    .object({
      type: z.literal('json_schema'),
      json_schema: z
        .object({
          name: z.string().min(1),
          description: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        })
        .loose(),
    })
    .loose(),
]);

const positiveInt = z.number().int().min(1);

const chatRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1, 'must contain at least one message'),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    top_k: z.number().int().min(0).nullable().optional(),
    n: z.number().int().min(1).max(128).nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    max_tokens: positiveInt.nullable().optional(),
    max_completion_tokens: positiveInt.nullable().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().optional(),
    tools: z.array(functionTool).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: responseFormat.optional(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
    presence_penalty: z.number().min(-2).max(2).nullable().optional(),
    frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
    logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  })
  .loose();

/** The top-level fields the schema checks (the rest pass through as they are). */
export const SCHEMA_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatRequest.shape));

/** Every request outside the common shape (validate-common.ts), and every invalid one. */
export function parseWithSchema(body: unknown): ChatRequest {
  const parsed = chatRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = paramOf(issue.path);
    const message = issue.code === 'invalid_union' || issue.code === 'invalid_type' && issue.path.length > 2
      ? `Invalid value for '${param}'.`
      : `Invalid value for '${param}': ${issue.message}.`;
    throw invalidRequest(param ? message : issue.message, param || null, 'invalid_value');
  }
  return withoutNulls(parsed.data as Record<string, unknown>) as ChatRequest;
}

function paramOf(path: PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

/** Drops explicit nulls: OpenAI treats `"temperature": null` as "not set", and so does every adapter. */
function withoutNulls(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (v !== null) out[k] = v;
  return out;
}

export function validateChatRequest(body: unknown, maxMessages = DEFAULT_MAX_MESSAGES): ChatRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const messages = (body as { messages?: unknown }).messages;
  // Checked before the schema, which would otherwise walk every one of a huge array first.
  if (Array.isArray(messages) && messages.length > maxMessages) {
    throw invalidRequest(`Invalid 'messages': array too long. Expected an array with at most ${maxMessages} items, got ${messages.length}.`, 'messages', 'array_above_max_length');
  }
  const req = commonChatRequest(body as Record<string, unknown>, SCHEMA_FIELDS) ?? parseWithSchema(body);
  if (req.stream_options && !req.stream) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value');
  }
  if (req.top_logprobs !== undefined && !req.logprobs) {
    throw invalidRequest("'top_logprobs' requires 'logprobs' to be true.", 'top_logprobs', 'invalid_value');
  }
  const answered = new Set(req.messages.filter((m) => m.role === 'tool').map((m) => (m as { tool_call_id: string }).tool_call_id));
  for (const [i, m] of req.messages.entries()) {
    if (m.role !== 'assistant' || !m.tool_calls) continue;
    const missing = m.tool_calls.find((c) => !answered.has(c.id));
    // Every upstream rejects an unanswered tool call, each in its own words; say it once, clearly.
    if (missing && i < req.messages.length - 1) {
      throw invalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing: ${missing.id}.`,
        `messages[${i}].tool_calls`,
      );
    }
  }
  return req;
}
