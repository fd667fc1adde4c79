// OpenAI chat messages → Anthropic `system` + `messages`.
//
// Anthropic differs from OpenAI in ways that each cost a 400 if ignored:
// - there is no system role inside `messages`: system and developer messages become top-level `system`;
// - text blocks must be non-empty and not whitespace-only, so `content: ""` or null beside tool calls
//   (LangChain, the AI SDK) must produce no block at all;
// - tool calls are `tool_use` blocks with an object `input`, and their results `tool_result` blocks in
//   the next user turn, before any user text;
// - a final assistant turn (a prefill) may not end with whitespace.

import type { ChatMessage, TextPart, UserContentPart } from '../types.js';
import type { CacheControl, DocumentBlock, ImageBlock, MessageParam, RequestBlock, TextBlock, ToolResultBlock, ToolUseBlock } from './wire-types.js';

type OnDrop = (what: string, detail?: unknown) => void;

export interface ConvertedMessages {
  system?: TextBlock[];
  messages: MessageParam[];
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; ids minted by other providers may not. */
export function sanitizeToolId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return clean === '' ? 'call' : clean;
}

const isBlank = (text: string) => text.trim() === '';

function cacheControlOf(value: unknown): CacheControl | undefined {
  const cc = (value as { cache_control?: unknown } | null)?.cache_control;
  return cc && typeof cc === 'object' ? (cc as CacheControl) : undefined;
}

function textBlock(text: string, from?: unknown): TextBlock {
  const cc = cacheControlOf(from);
  return cc ? { type: 'text', text, cache_control: cc } : { type: 'text', text };
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

interface DataUri {
  mime: string;
  base64: boolean;
  data: string;
}

function parseDataUri(url: string): DataUri | undefined {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!m) return undefined;
  const mime = m[1].toLowerCase() === 'image/jpg' ? 'image/jpeg' : m[1].toLowerCase();
  return { mime, base64: m[2].split(';').includes('base64'), data: m[3] };
}

function imageBlock(url: string, part: unknown, onDrop: OnDrop): ImageBlock | DocumentBlock | undefined {
  const cc = cacheControlOf(part);
  const withCache = <T extends ImageBlock | DocumentBlock>(b: T): T => (cc ? { ...b, cache_control: cc } : b);
  if (/^https?:\/\//i.test(url)) return withCache({ type: 'image', source: { type: 'url', url } });
  const uri = parseDataUri(url);
  if (!uri || !uri.base64) {
    onDrop('image_url', { reason: 'only http(s) URLs and base64 data: URIs can be sent to Anthropic', url: url.slice(0, 40) });
    return undefined;
  }
  if (IMAGE_TYPES.has(uri.mime)) return withCache({ type: 'image', source: { type: 'base64', media_type: uri.mime, data: uri.data } });
  if (uri.mime === 'application/pdf') return withCache({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: uri.data } });
  onDrop('image_url', { reason: 'Anthropic takes JPEG, PNG, GIF and WebP images (and PDF documents)', mime: uri.mime });
  return undefined;
}

/** OpenAI `file` parts: a PDF given inline becomes a document; file ids live at OpenAI only. */
function fileBlock(part: UserContentPart, onDrop: OnDrop): DocumentBlock | undefined {
  const file = (part as { file?: { file_data?: unknown; filename?: unknown } }).file;
  const uri = typeof file?.file_data === 'string' ? parseDataUri(file.file_data) : undefined;
  if (!uri || !uri.base64 || uri.mime !== 'application/pdf') {
    onDrop('file', { reason: 'only inline PDF files (base64 data: URIs) can be sent to Anthropic' });
    return undefined;
  }
  const block: DocumentBlock = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: uri.data } };
  if (typeof file?.filename === 'string' && file.filename !== '') block.title = file.filename;
  const cc = cacheControlOf(part);
  return cc ? { ...block, cache_control: cc } : block;
}

function userBlocks(content: string | UserContentPart[], onDrop: OnDrop): RequestBlock[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [textBlock(content)];
  const blocks: RequestBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      const text = (part as TextPart).text;
      if (!isBlank(text)) blocks.push(textBlock(text, part));
    } else if (part.type === 'image_url') {
      const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
      const block = typeof url === 'string' ? imageBlock(url, part, onDrop) : undefined;
      if (block) blocks.push(block);
    } else if (part.type === 'file') {
      const block = fileBlock(part, onDrop);
      if (block) blocks.push(block);
    } else {
      onDrop(`content part ${part.type}`, { reason: 'Anthropic has no equivalent' });
    }
  }
  return blocks;
}

function toolInput(args: string, name: string, onDrop: OnDrop): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  onDrop('tool_calls[].function.arguments', { tool: name, reason: 'not a JSON object; sent as {}' });
  return {};
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>, onDrop: OnDrop): RequestBlock[] {
  const blocks: RequestBlock[] = [];
  const { content } = message;
  if (typeof content === 'string') {
    if (!isBlank(content)) blocks.push(textBlock(content));
  } else if (Array.isArray(content)) {
    for (const part of content) {
      const text = part.type === 'refusal' ? part.refusal : part.text;
      if (typeof text === 'string' && !isBlank(text)) blocks.push(textBlock(text, part));
    }
  }
  // A refusal the model gave earlier is what it said: keep it in the history as text.
  if (blocks.length === 0 && typeof message.refusal === 'string' && !isBlank(message.refusal)) blocks.push(textBlock(message.refusal));
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    // Anthropic only takes back thinking with its signature, which OpenAI clients do not keep.
    onDrop('assistant reasoning_content', { reason: 'thinking can only be replayed with its signature' });
  }
  for (const call of message.tool_calls ?? []) {
    const block: ToolUseBlock = {
      type: 'tool_use',
      id: sanitizeToolId(call.id),
      name: call.function.name,
      input: toolInput(call.function.arguments, call.function.name, onDrop),
    };
    blocks.push(block);
  }
  return blocks;
}

function toolResultBlock(message: Extract<ChatMessage, { role: 'tool' }>): ToolResultBlock {
  const text = textOf(message.content);
  const block: ToolResultBlock = { type: 'tool_result', tool_use_id: sanitizeToolId(message.tool_call_id) };
  // An empty string would be an empty text block; Anthropic's content is optional.
  if (text !== '') block.content = text;
  return block;
}

/** Message-level cache_control (a LiteLLM convention) marks the message's last block. */
function withMessageCacheControl(blocks: RequestBlock[], message: unknown): RequestBlock[] {
  const cc = cacheControlOf(message);
  const last = blocks.at(-1);
  if (!cc || !last || last.type === 'tool_use' || last.type === 'tool_result') return blocks;
  return [...blocks.slice(0, -1), { ...last, cache_control: cc }];
}

export function convertMessages(input: ChatMessage[], onDrop: OnDrop): ConvertedMessages {
  const system: TextBlock[] = [];
  const turns: MessageParam[] = [];
  const push = (role: MessageParam['role'], blocks: RequestBlock[]) => {
    const last = turns.at(-1);
    // Consecutive same-role messages (several tool results, user text after them) make one turn:
    // Anthropic wants strict user/assistant alternation.
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  for (const [i, message] of input.entries()) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        // Mid-conversation instructions are hoisted too, in order: Anthropic has one system prompt.
        const parts = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
        const blocks = parts.filter((p) => typeof p?.text === 'string' && !isBlank(p.text)).map((p) => textBlock(p.text, p));
        system.push(...(withMessageCacheControl(blocks, message) as TextBlock[]));
        break;
      }
      case 'user': {
        const blocks = withMessageCacheControl(userBlocks(message.content, onDrop), message);
        if (blocks.length === 0) onDrop('empty user message', { index: i });
        else push('user', blocks);
        break;
      }
      case 'assistant': {
        const blocks = withMessageCacheControl(assistantBlocks(message, onDrop), message);
        if (blocks.length === 0) onDrop('empty assistant message', { index: i });
        else push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [toolResultBlock(message)]);
        break;
      default:
        onDrop(`message role ${(message as { role?: unknown }).role}`, { index: i });
    }
  }

  for (const turn of turns) {
    // All results for the previous assistant turn must come first in the user turn that follows it.
    if (turn.role === 'user') turn.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  }

  const final = turns.at(-1);
  if (final?.role === 'assistant') {
    // A prefill: "final assistant content cannot end with trailing whitespace".
    const last = final.content.at(-1);
    if (last?.type === 'text') {
      last.text = last.text.trimEnd();
      if (last.text === '') final.content.pop();
    }
    if (final.content.length === 0) turns.pop();
  }

  if (turns.length === 0 && system.length > 0) {
    // Only instructions were sent (OpenAI accepts that); Anthropic needs a user turn to answer.
    return { messages: [{ role: 'user', content: system.map((b) => ({ ...b })) }] };
  }
  if (turns[0]?.role === 'assistant') {
    // Anthropic wants the conversation to open with a user turn; the smallest possible one.
    turns.unshift({ role: 'user', content: [{ type: 'text', text: '.' }] });
  }
  return system.length > 0 ? { system, messages: turns } : { messages: turns };
}
