// OpenAI-compatible request shaping per model, driven by the catalog's `quirks` (data, not code):
// DeepSeek and xAI are OpenAI with different rejections, and o-series models refuse sampling knobs.

import type { ModelQuirks } from '../../catalog/types.js';
import type { ChatMessage, ChatRequest } from '../types.js';

/** Fields that belong to the gateway, not to any upstream. */
const GATEWAY_ONLY = ['model', 'messages', 'stream', 'stream_options'] as const;

const EFFORT_ORDER = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

/** The nearest effort the model accepts (grok-3-mini takes only low/high: medium → high). */
export function nearestEffort(effort: string, accepted: string[]): string | undefined {
  if (accepted.includes(effort)) return effort;
  const want = EFFORT_ORDER.indexOf(effort);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of accepted) {
    const distance = Math.abs(EFFORT_ORDER.indexOf(candidate) - want);
    if (distance < bestDistance || (distance === bestDistance && EFFORT_ORDER.indexOf(candidate) > want)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('');
}

/** Messages as the model accepts them: system role folding, reasoning stripping, text flattening. */
export function shapeMessages(messages: ChatMessage[], quirks: ModelQuirks): ChatMessage[] {
  let out = messages;
  if (quirks.systemRole === 'user') {
    // o1-mini refuses system and developer roles: fold them into the first user turn.
    const system = out.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content));
    out = out.filter((m) => m.role !== 'system' && m.role !== 'developer');
    const first = out.findIndex((m) => m.role === 'user');
    if (system.length && first >= 0) {
      const user = out[first] as Extract<ChatMessage, { role: 'user' }>;
      const prefix = `${system.join('\n\n')}\n\n`;
      const content = typeof user.content === 'string' ? prefix + user.content : [{ type: 'text' as const, text: prefix }, ...user.content];
      out = [...out.slice(0, first), { ...user, content }, ...out.slice(first + 1)];
    }
  } else if (quirks.systemRole === 'developer') {
    out = out.map((m) => (m.role === 'system' ? { ...m, role: 'developer' } : m));
  }
  if (quirks.stripHistoryReasoning) {
    // deepseek-reasoner answers 400 when history carries reasoning_content.
    out = out.map((m) => {
      if (m.role !== 'assistant' || m.reasoning_content === undefined) return m;
      const { reasoning_content: _dropped, ...rest } = m;
      return rest;
    });
  }
  if (quirks.textOnlyContent) {
    // DeepSeek deserialises content as a string or text parts only; flatten to be safe.
    out = out.map((m) => (Array.isArray(m.content) ? ({ ...m, content: textOf(m.content) } as ChatMessage) : m));
  }
  return out;
}

/** The upstream body, minus what the model rejects, with the output cap under the field it expects. */
export function shapeBody(req: ChatRequest, upstreamModel: string, quirks: ModelQuirks, stream: boolean): Record<string, unknown> {
  // Built by leaving fields out rather than deleting them afterwards: an object that had properties
  // deleted becomes a slow dictionary for the JSON.stringify that follows.
  const dropped = quirks.dropParams;
  const body: Record<string, unknown> = {};
  for (const key in req) {
    const value = req[key as keyof ChatRequest];
    if (value === undefined || key === 'max_tokens' || key === 'max_completion_tokens') continue;
    if ((GATEWAY_ONLY as readonly string[]).includes(key) || dropped?.includes(key)) continue;
    body[key] = value;
  }
  const cap = req.max_completion_tokens ?? req.max_tokens;
  const capField = quirks.maxTokensField ?? 'max_completion_tokens';
  if (cap !== undefined && !dropped?.includes(capField)) body[capField] = cap;
  if (typeof body.reasoning_effort === 'string' && quirks.reasoningEfforts) {
    const effort = nearestEffort(body.reasoning_effort, quirks.reasoningEfforts);
    if (effort) body.reasoning_effort = effort;
    else delete body.reasoning_effort;
  }
  body.model = upstreamModel;
  body.messages = shapeMessages(req.messages, quirks);
  if (stream) {
    body.stream = true;
    // Always ask for usage so every stream can be billed; the pipeline hides it from clients that did not ask.
    body.stream_options = { include_usage: true };
  }
  return body;
}
