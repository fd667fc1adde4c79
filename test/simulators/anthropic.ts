// Default Anthropic Messages replies: an echo of the last user turn as a Messages response, with usage
// as Anthropic counts it (input excludes the cache), a thinking block when `thinking` is on, a tool_use
// when tool_choice forces one, `max_tokens` and `stop_sequence` stops, and the stream as named SSE events.
// Before answering it refuses, with Anthropic's own error shape and words, the requests the real API
// refuses (empty text blocks, unpaired tool results, thinking budget ≥ max_tokens…), so a gateway bug
// shows up as a 400 here rather than in production.

import type { RecordedRequest, Reply, SseFrame } from './server.js';
import { simTokens } from './defaults.js';

type Block = { type: string; [field: string]: any };
interface Message {
  role: string;
  content: string | Block[];
}

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function anthropicError(status: number, type: string, message: string): Reply {
  return { kind: 'json', status, body: { type: 'error', error: { type, message }, request_id: 'req_sim' } };
}

const blocksOf = (m: Message): Block[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content : []);

/** Models that refuse temperature and top_p together (Sonnet 4.5, Haiku 4.5, Opus 4.1 and later). */
const rejectsTemperatureWithTopP = (model: string) => /claude-(?:opus|sonnet|haiku)-4-[1-9](?!\d)/.test(model);

/** The first reason the real API would refuse this request, in its words; undefined when it would answer. */
export function messagesRequestProblem(body: any): string | undefined {
  if (typeof body?.model !== 'string') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system) || body.system.some((b: Block) => b?.type !== 'text')) return 'system: Input should be a valid list of text blocks';
    if (body.system.some((b: Block) => typeof b.text !== 'string' || b.text.trim() === '')) return 'system: text content blocks must contain non-whitespace text';
  }
  const messages = body.messages as Message[];
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (typeof m.content === 'string' ? m.content === '' : !Array.isArray(m.content) || m.content.length === 0) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    const blocks = blocksOf(m);
    let seenOther = false;
    for (const [j, b] of blocks.entries()) {
      const at = `messages.${i}.content.${j}`;
      if (b.type === 'text' && (typeof b.text !== 'string' || b.text.trim() === '')) return 'messages: text content blocks must contain non-whitespace text';
      if (b.type === 'tool_use') {
        if (m.role !== 'assistant') return `${at}: tool_use blocks are only allowed in assistant messages`;
        if (!b.input || typeof b.input !== 'object' || Array.isArray(b.input)) return `${at}.tool_use.input: Input should be a valid dictionary`;
        if (!/^[a-zA-Z0-9_-]+$/.test(b.id ?? '')) return `${at}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`;
      }
      if (b.type === 'tool_result') {
        if (m.role !== 'user') return `${at}: tool_result blocks are only allowed in user messages`;
        if (seenOther) return `${at}: tool_result blocks must come first in the user message content`;
      } else seenOther = true;
      if (b.type === 'image') {
        const source = b.source ?? {};
        if (source.type === 'base64' && !IMAGE_TYPES.includes(source.media_type)) return `${at}.image.source.base64.media_type: Input should be ${IMAGE_TYPES.map((t) => `'${t}'`).join(', ')}`;
        if (source.type === 'url' && !/^https?:\/\//.test(source.url ?? '')) return `${at}.image.source.url: Input should be a valid URL`;
        if (source.type !== 'base64' && source.type !== 'url') return `${at}.image.source: Input tag '${source.type}' found using 'type' does not match any of the expected tags: 'base64', 'url'`;
      }
    }
    // Tool pairing: every tool_use is answered in the very next message, every result answers one.
    const uses = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id);
    const next = messages[i + 1];
    if (m.role === 'assistant' && uses.length > 0 && next) {
      const answered = new Set(blocksOf(next).filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id));
      const missing = uses.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
    if (m.role === 'user') {
      const previous = messages[i - 1];
      const known = new Set(previous ? blocksOf(previous).filter((b) => b.type === 'tool_use').map((b) => b.id) : []);
      const orphan = blocks.find((b) => b.type === 'tool_result' && !known.has(b.tool_use_id));
      if (orphan) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${orphan.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
  }
  const last = messages.at(-1)!;
  const lastBlock = blocksOf(last).at(-1);
  if (last.role === 'assistant' && lastBlock?.type === 'text' && /\s$/.test(lastBlock.text)) return 'messages: final assistant content cannot end with trailing whitespace';

  if (body.temperature !== undefined && (body.temperature < 0 || body.temperature > 1)) return 'temperature: Input should be less than or equal to 1';
  if (body.temperature !== undefined && body.top_p !== undefined && rejectsTemperatureWithTopP(body.model)) {
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  }
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.some((s: unknown) => typeof s !== 'string' || s.trim() === '')) {
    return 'stop_sequences: each stop sequence must contain non-whitespace';
  }
  if (body.tool_choice !== undefined && !(Array.isArray(body.tools) && body.tools.length > 0)) return 'tool_choice: tool_choice may only be specified while providing tools';
  for (const [k, tool] of (body.tools ?? []).entries()) {
    if (typeof tool?.name !== 'string' || tool?.input_schema?.type !== 'object') return `tools.${k}.custom.input_schema.type: Field required`;
  }
  if (body.tool_choice?.type === 'tool' && !(body.tools ?? []).some((t: any) => t.name === body.tool_choice.name)) {
    return `tool_choice.tool.name: Tool '${body.tool_choice.name}' not found in tools`;
  }
  if (body.thinking?.type === 'enabled') {
    const budget = body.thinking.budget_tokens;
    if (!Number.isInteger(budget) || budget < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (body.max_tokens <= budget) return '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size';
    if (body.temperature !== undefined && body.temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility';
    if (body.top_k !== undefined) return '`top_k` must be unset when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility';
    if (body.tool_choice?.type === 'any' || body.tool_choice?.type === 'tool') return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  return undefined;
}

/** What the last user turn said: its text, the tool results it carries, and the images it shows. */
function lastUserTurn(messages: Message[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const said: string[] = [];
  for (const b of last ? blocksOf(last) : []) {
    if (b.type === 'text') said.push(b.text);
    if (b.type === 'tool_result') said.push(`${b.tool_use_id} returned ${typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '')}`);
    if (b.type === 'image') said.push(b.source?.type === 'url' ? `[image ${b.source.url}]` : `[${b.source?.media_type}, ${Buffer.from(b.source?.data ?? '', 'base64').length} bytes]`);
  }
  return said.join(' ');
}

/** Plausible input for a forced tool: each property filled by its type. */
function inputFor(tool: any, question: string): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const props: Record<string, { type?: string }> = tool.input_schema?.properties ?? {};
  for (const [name, schema] of Object.entries(props)) {
    const type = schema?.type;
    input[name] = type === 'number' || type === 'integer' ? 42 : type === 'boolean' ? true : type === 'array' ? [] : type === 'object' ? {} : question;
  }
  return input;
}

function forcedTool(body: any): any | undefined {
  const choice = body.tool_choice;
  if (choice?.type === 'any') return body.tools[0];
  if (choice?.type === 'tool') return body.tools.find((t: any) => t.name === choice.name);
  return undefined;
}

/** Words with their trailing space: one simulated output token each, so a small max_tokens cuts the answer. */
const words = (text: string): string[] => text.split(/(?<= )/).filter((w) => w !== '');

export function anthropicReply(req: RecordedRequest): Reply {
  if (req.method !== 'POST' || !req.path.startsWith('/v1/messages')) return anthropicError(404, 'not_found_error', `Not found: ${req.method} ${req.path}`);
  if (!req.headers['x-api-key']) return anthropicError(401, 'authentication_error', 'x-api-key header is required');
  if (!req.headers['anthropic-version']) return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
  const body = req.body;
  if (!body || typeof body !== 'object') return anthropicError(400, 'invalid_request_error', 'There was an error parsing the body of your request.');
  const problem = messagesRequestProblem(body);
  if (problem) return anthropicError(400, 'invalid_request_error', problem);

  const question = lastUserTurn(body.messages);
  const thinking = body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive' ? `Thinking about: ${question}` : undefined;
  const tool = forcedTool(body);
  const toolUse = tool ? { type: 'tool_use', id: `toolu_sim${req.rawBody.length}`, name: tool.name, input: inputFor(tool, question) } : undefined;

  let answer = `Echo: ${question}`;
  let stopReason = toolUse ? 'tool_use' : 'end_turn';
  let stopSequence: string | null = null;
  if (!toolUse) {
    for (const seq of body.stop_sequences ?? []) {
      const at = answer.indexOf(seq);
      if (at >= 0) {
        answer = answer.slice(0, at);
        stopReason = 'stop_sequence';
        stopSequence = seq;
        break;
      }
    }
    const thinkingTokens = thinking ? simTokens(thinking) : 0;
    const room = body.max_tokens - thinkingTokens;
    if (words(answer).length > room) {
      answer = words(answer).slice(0, Math.max(0, room)).join('');
      stopReason = 'max_tokens';
      stopSequence = null;
    }
  }

  const thinkingTokens = thinking ? simTokens(thinking) : 0;
  const outputTokens = thinkingTokens + (toolUse ? simTokens(JSON.stringify(toolUse.input)) : words(answer).length);
  const usage = {
    input_tokens: simTokens(JSON.stringify([body.system ?? null, body.messages, body.tools ?? null])),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    ...(thinking ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
    service_tier: 'standard',
  };
  const signature = 'EqQBCgIYAhIMsimsignature';
  const content: Block[] = [
    ...(thinking ? [{ type: 'thinking', thinking, signature }] : []),
    ...(toolUse ? [toolUse] : answer !== '' ? [{ type: 'text', text: answer }] : []),
  ];
  const message = { id: `msg_sim${req.rawBody.length}`, type: 'message', role: 'assistant', model: body.model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage };
  if (!body.stream) return { kind: 'json', body: message };

  const frames: SseFrame[] = [];
  const send = (payload: { type: string; [k: string]: unknown }) => frames.push({ event: payload.type, data: JSON.stringify(payload) });
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, cache_creation } = usage;
  send({ type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, cache_creation, output_tokens: 1, service_tier: 'standard' } } });
  send({ type: 'ping' });
  content.forEach((block, index) => {
    if (block.type === 'thinking') {
      send({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      send({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } });
      send({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } });
    } else if (block.type === 'tool_use') {
      send({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      for (const partial_json of ['', json.slice(0, half), json.slice(half)]) send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
    } else {
      send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of words(block.text)) send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
    }
    send({ type: 'content_block_stop', index });
  });
  send({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: outputTokens, ...(thinking ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}) } });
  send({ type: 'message_stop' });
  return { kind: 'sse', frames };
}
