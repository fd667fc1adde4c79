// Token counts before (or without) the upstream's word: reservations, TPM admission, context trimming,
// and billing a stream that ended without the upstream's usage. o200k_base is OpenAI's current encoding;
// other vendors' tokenizers differ by a few tens of percent, which the reservation margin absorbs.

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage } from '../providers/types.js';

/** Tokens charged per image part by vision models (OpenAI high detail is at most ~1,100 for 2048²). */
const IMAGE_TOKENS = 1_500;
/** Per-message framing tokens (role markers), as in OpenAI's counting guide. */
const PER_MESSAGE = 4;
/**
 * The tokenizer runs at about 6 MB/s on the event loop. Up to this many characters a text is counted
 * exactly; a longer one (a pasted book) is counted from evenly spaced samples, to within a few percent,
 * so one large prompt cannot stall every other request for a tenth of a second or more.
 */
const EXACT_UP_TO_CHARS = 64 * 1024;
const SAMPLES = 8;
const SAMPLE_CHARS = 4 * 1024;

/** Text a client sends is counted as text: "<|endoftext|>" in a message is not a special token (nor an error). */
const AS_TEXT = { disallowedSpecial: new Set<string>() };
const count = (text: string): number => countTokens(text, AS_TEXT);

/**
 * Counts of texts seen lately. Clients resend the whole history with every turn, and most requests of
 * an application share its system prompt and tool definitions, so most of a prompt was counted before.
 * Only texts up to CACHED_UP_TO_CHARS are kept, at most CACHE_ENTRIES of them, the oldest dropped first.
 */
const counted = new Map<string, number>();
const CACHE_ENTRIES = 20_000;
const CACHED_UP_TO_CHARS = 16 * 1024;

export function countTextTokens(text: string): number {
  if (!text) return 0;
  if (text.length <= CACHED_UP_TO_CHARS) {
    const known = counted.get(text);
    if (known !== undefined) return known;
    const tokens = count(text);
    if (counted.size >= CACHE_ENTRIES) counted.delete(counted.keys().next().value!);
    counted.set(text, tokens);
    return tokens;
  }
  if (text.length <= EXACT_UP_TO_CHARS) return count(text);
  const stride = (text.length - SAMPLE_CHARS) / (SAMPLES - 1);
  let tokens = 0;
  let chars = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const sample = text.slice(Math.floor(i * stride), Math.floor(i * stride) + SAMPLE_CHARS);
    tokens += count(sample);
    chars += sample.length;
  }
  return Math.ceil((tokens / chars) * text.length);
}

/** Tokens of a prompt: messages, plus any extras sent with it (tools, response_format schema). */
export function estimatePromptTokens(messages: ChatMessage[], ...extras: unknown[]): number {
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
  for (const extra of extras) if (extra !== undefined && extra !== null) tokens += countTextTokens(JSON.stringify(extra));
  return tokens;
}
