// For upstreams that cannot take an image by URL (Gemini), the gateway fetches it — safely — and
// passes a data: URI instead.

import type { ChatMessage, UserContentPart } from '../providers/types.js';
import { safeFetch } from './safe-fetch.js';

export const IMAGE_MAX_BYTES = 20 * 1024 * 1024;
const IMAGE_TIMEOUT_MS = 10_000;

export function hasImages(messages: ChatMessage[]): boolean {
  return messages.some((m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'));
}

export async function inlineImageUrls(messages: ChatMessage[], allowPrivate: boolean): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user' || !Array.isArray(m.content)) {
      out.push(m);
      continue;
    }
    const parts: UserContentPart[] = [];
    for (const [j, part] of m.content.entries()) {
      const url = part.type === 'image_url' ? (part as { image_url: { url: string } }).image_url.url : undefined;
      if (!url || url.startsWith('data:')) {
        parts.push(part);
        continue;
      }
      const image = await safeFetch(url, {
        what: 'image',
        param: `messages[${i}].content[${j}].image_url.url`,
        maxBytes: IMAGE_MAX_BYTES,
        timeoutMs: IMAGE_TIMEOUT_MS,
        allowPrivate,
        accept: (type) => type.startsWith('image/'),
      });
      parts.push({ ...part, type: 'image_url', image_url: { ...(part as any).image_url, url: `data:${image.contentType};base64,${image.body.toString('base64')}` } });
    }
    out.push({ ...m, content: parts });
  }
  return out;
}
