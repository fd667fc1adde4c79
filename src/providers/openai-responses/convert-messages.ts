// Chat messages → Responses `instructions` + `input` items.
// System and developer turns become `instructions`; the rest become message, function_call and
// function_call_output items in order, so a tool result always follows the call it answers.

import type { AssistantMessage, ChatMessage, TextPart, UserContentPart } from '../types.js';
import type { DropReporter } from './params.js';

export type InputContentPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail: 'auto' | 'low' | 'high' }
  | { type: 'input_file'; file_data?: string; file_id?: string; filename?: string };

export type InputItem =
  | { type: 'message'; role: 'user'; content: string | InputContentPart[] }
  | { type: 'message'; role: 'assistant'; content: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

export interface ConvertedMessages {
  instructions?: string;
  input: InputItem[];
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

function convertUserPart(part: UserContentPart, onDrop: DropReporter): InputContentPart | undefined {
  if (part.type === 'text' && typeof part.text === 'string') return { type: 'input_text', text: part.text };
  if (part.type === 'image_url') {
    const image = (part as { image_url?: { url?: unknown; detail?: 'auto' | 'low' | 'high' } }).image_url;
    if (typeof image?.url === 'string') return { type: 'input_image', image_url: image.url, detail: image.detail ?? 'auto' };
  }
  if (part.type === 'file') {
    const file = (part as { file?: { file_data?: string; file_id?: string; filename?: string } }).file;
    if (file && (file.file_data || file.file_id)) {
      return {
        type: 'input_file',
        ...(file.file_data ? { file_data: file.file_data } : {}),
        ...(file.file_id ? { file_id: file.file_id } : {}),
        ...(file.filename ? { filename: file.filename } : {}),
      };
    }
  }
  onDrop(`user content part ${part.type}`, { reason: 'the Responses API has no input for it' });
  return undefined;
}

function convertAssistant(message: AssistantMessage, onDrop: DropReporter): InputItem[] {
  const items: InputItem[] = [];
  let text = '';
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) {
    text = message.content.map((part) => (part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : '')).join('');
  }
  if (!text && message.refusal) text = message.refusal;
  // An empty string beside tool calls (LangChain sends content: "") is not a turn of its own.
  if (text) items.push({ type: 'message', role: 'assistant', content: text });
  if (message.reasoning_content) {
    onDrop('assistant reasoning_content', { reason: 'Responses replays reasoning only as encrypted items' });
  }
  for (const call of message.tool_calls ?? []) {
    items.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments || '{}' });
  }
  return items;
}

export function convertMessages(messages: ChatMessage[], onDrop: DropReporter): ConvertedMessages {
  const instructions: string[] = [];
  const input: InputItem[] = [];
  for (const message of messages) {
    if ('name' in message && message.name !== undefined) onDrop(`${message.role} message name`, { reason: 'no Responses equivalent' });
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content);
        if (text) instructions.push(text);
        break;
      }
      case 'user': {
        if (typeof message.content === 'string') {
          input.push({ type: 'message', role: 'user', content: message.content });
          break;
        }
        const parts = message.content.map((part) => convertUserPart(part, onDrop)).filter((p) => p !== undefined);
        if (parts.length) input.push({ type: 'message', role: 'user', content: parts });
        break;
      }
      case 'assistant':
        input.push(...convertAssistant(message, onDrop));
        break;
      case 'tool':
        input.push({ type: 'function_call_output', call_id: message.tool_call_id, output: textOf(message.content) });
        break;
      default:
        onDrop(`message role ${(message as { role?: unknown }).role}`);
    }
  }
  return { ...(instructions.length ? { instructions: instructions.join('\n\n') } : {}), input };
}
