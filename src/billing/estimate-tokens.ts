// Prompt size before the upstream has said anything: for reservations, context trimming and for
// billing streams that ended without the upstream's usage. o200k_base is OpenAI's current encoding;
// other vendors' tokenizers differ by a few tens of percent, which the reservation margin absorbs.

import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage } from '../providers/types.js';

/** Tokens charged per image part by vision models (OpenAI high detail is at most ~1,100 for 2048²). */
const IMAGE_TOKENS = 1_500;
/** Per-message framing tokens (role markers), as in OpenAI's counting guide. */
const PER_MESSAGE = 4;

export function countTextTokens(text: string): number {
  return text ? encode(text).length : 0;
}

export function estimatePromptTokens(messages: ChatMessage[], tools?: unknown): number {
  let tokens = 3;
  for (const m of messages) {
    tokens += PER_MESSAGE;
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') tokens += countTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part?.type === 'text') tokens += countTextTokens(part.text);
        else if (part?.type === 'image_url') tokens += IMAGE_TOKENS;
        else tokens += countTextTokens(JSON.stringify(part));
      }
    }
    if (m.role === 'assistant' && m.tool_calls) tokens += countTextTokens(JSON.stringify(m.tool_calls));
  }
  if (tools) tokens += countTextTokens(JSON.stringify(tools));
  return tokens;
}
