// OpenAI messages → Gemini `systemInstruction` + `contents`.
// Gemini wants strict user/model alternation, non-empty parts, a `name` on every functionResponse
// (OpenAI tool messages carry only the call id) and as many responses as the model turn had calls.

import type { AssistantMessage, ChatMessage, ToolCall, ToolMessage, UserContentPart } from '../types.js';

export type GeminiPart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | { inlineData: { mimeType: string; data: string } }
  | { functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface ConvertedMessages {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
}

export interface ConvertMessagesOptions {
  onDrop(what: string, detail?: unknown): void;
  /**
   * Put on the first functionCall part of each replayed model turn. Gemini 3 rejects replayed calls
   * without their thought signature, which OpenAI clients cannot carry back; Google documents a
   * sentinel for exactly this case.
   */
  functionCallSignature?: string;
}

const MISSING_RESULT = 'No result was returned for this tool call.';

interface DataUri {
  mimeType: string;
  data: string;
}

/** `data:[mime][;base64],payload` → base64 payload; percent-encoded payloads are re-encoded. */
export function parseDataUri(uri: string): DataUri | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(uri);
  if (!match) return undefined;
  const mimeType = match[1] || 'application/octet-stream';
  const isBase64 = match[2].split(';').includes('base64');
  const data = isBase64 ? match[3] : Buffer.from(decodeURIComponent(match[3]), 'utf8').toString('base64');
  return { mimeType, data };
}

function textOf(content: string | Array<{ type: string; text?: string; refusal?: string }> | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p.type === 'text' ? (p.text ?? '') : p.type === 'refusal' ? (p.refusal ?? '') : '')).join('');
}

const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mp3' };

function userParts(content: string | UserContentPart[], onDrop: ConvertMessagesOptions['onDrop']): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      const text = (part as { text?: unknown }).text;
      // Gemini rejects empty text parts.
      if (typeof text === 'string' && text !== '') parts.push({ text });
    } else if (part.type === 'image_url') {
      const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
      const inline = typeof url === 'string' ? parseDataUri(url) : undefined;
      if (inline) parts.push({ inlineData: inline });
      else onDrop('image_url', { reason: 'only data: URIs reach the Gemini adapter', url: typeof url === 'string' ? url.slice(0, 100) : url });
    } else if (part.type === 'input_audio') {
      const audio = (part as { input_audio?: { data?: unknown; format?: unknown } }).input_audio;
      const mimeType = typeof audio?.format === 'string' ? AUDIO_MIME[audio.format] : undefined;
      if (typeof audio?.data === 'string' && mimeType) parts.push({ inlineData: { mimeType, data: audio.data } });
      else onDrop('input_audio', { format: audio?.format });
    } else if (part.type === 'file') {
      const fileData = (part as { file?: { file_data?: unknown } }).file?.file_data;
      const inline = typeof fileData === 'string' ? parseDataUri(fileData) : undefined;
      if (inline) parts.push({ inlineData: inline });
      else onDrop('file', { reason: 'only inline file_data is supported' });
    } else {
      onDrop('content part', { type: part.type });
    }
  }
  return parts;
}

/** Tool arguments must reach Gemini as an object (a protobuf Struct). */
function parseArguments(call: ToolCall, onDrop: ConvertMessagesOptions['onDrop']): Record<string, unknown> {
  const raw = call.function.arguments;
  if (raw === undefined || raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { value: parsed };
  } catch {
    onDrop('tool_call arguments', { id: call.id, reason: 'not valid JSON; sent as empty arguments' });
    return {};
  }
}

/** functionResponse.response must be an object: JSON objects go as they are, anything else is wrapped. */
export function toolResponseObject(content: ToolMessage['content']): Record<string, unknown> {
  const text = textOf(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // plain text, the common case for LangChain tools
  }
  return { content: text };
}

function modelParts(message: AssistantMessage, opts: ConvertMessagesOptions): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = textOf(message.content);
  if (text !== '') parts.push({ text });
  // reasoning_content cannot be replayed: Gemini thoughts only count with their signature.
  if (message.reasoning_content) opts.onDrop('assistant reasoning_content', 'Gemini does not accept replayed thoughts');
  (message.tool_calls ?? []).forEach((call, i) => {
    const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArguments(call, opts.onDrop) } };
    if (i === 0 && opts.functionCallSignature) part.thoughtSignature = opts.functionCallSignature;
    parts.push(part);
  });
  return parts;
}

export function convertMessages(messages: ChatMessage[], opts: ConvertMessagesOptions): ConvertedMessages {
  const contents: GeminiContent[] = [];
  const systemTexts: string[] = [];
  /** tool_call_id → function name, from every assistant turn seen so far (later turns win). */
  const callNames = new Map<string, string>();
  /** Calls of the latest model turn still waiting for a tool message. */
  let openCalls: ToolCall[] = [];

  const append = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  // Gemini refuses a turn whose response count differs from the call count: answer the forgotten ones.
  const closeOpenCalls = () => {
    if (openCalls.length === 0) return;
    opts.onDrop('missing tool results', { ids: openCalls.map((c) => c.id), reason: 'answered with an error response' });
    append(
      'user',
      openCalls.map((c) => ({ functionResponse: { name: c.function.name, response: { error: MISSING_RESULT } } })),
    );
    openCalls = [];
  };

  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content);
        if (text !== '') systemTexts.push(text);
        break;
      }
      case 'user':
        closeOpenCalls();
        append('user', userParts(message.content, opts.onDrop));
        break;
      case 'assistant':
        closeOpenCalls();
        for (const call of message.tool_calls ?? []) callNames.set(call.id, call.function.name);
        openCalls = [...(message.tool_calls ?? [])];
        append('model', modelParts(message, opts));
        break;
      case 'tool': {
        const name = callNames.get(message.tool_call_id);
        if (name === undefined) {
          // No call to answer: keep the result as text rather than lose it.
          opts.onDrop('tool message', { tool_call_id: message.tool_call_id, reason: 'no earlier tool call with this id; sent as text' });
          append('user', [{ text: `Result of tool call ${message.tool_call_id}: ${textOf(message.content)}` }]);
          break;
        }
        openCalls = openCalls.filter((c) => c.id !== message.tool_call_id);
        append('user', [{ functionResponse: { name, response: toolResponseObject(message.content) } }]);
        break;
      }
      default:
        opts.onDrop('message', { role: (message as { role?: unknown }).role });
    }
  }

  const systemText = systemTexts.join('\n\n');
  // A request of system messages only: Gemini needs at least one content, so the instruction becomes it.
  if (contents.length === 0 && systemText !== '') {
    return { contents: [{ role: 'user', parts: [{ text: systemText }] }] };
  }
  return systemText === '' ? { contents } : { contents, systemInstruction: { parts: [{ text: systemText }] } };
}
