// A turn's `references` (DESIGN.md section 5) become part of its question:
//   - an image (data:image/… URI, or an http(s) URL that is one) → an image part;
//   - a text document (an http(s) URL served as text/*, JSON or Markdown, or a data: URI of one)
//     → a delimited context document with its source, before the question;
//   - any other string → itself a context document.
// How an image URL is told from a document URL: by extension first (.png .jpg .jpeg .gif .webp are
// images, passed to the model as URLs without being fetched here, exactly as image_url parts on
// /v1/chat/completions are); any other URL is fetched once, safely, and its content type decides.

import type { ImagePart, UserContentPart, UserMessage } from '../providers/types.js';
import { invalidRequest } from '../gateway/errors.js';
import { safeFetch } from '../gateway/safe-fetch.js';
import { IMAGE_MAX_BYTES } from '../gateway/inline-images.js';

/** A context document larger than this would crowd the question out of most context windows anyway. */
export const DOCUMENT_MAX_BYTES = 2 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
const IMAGE_PATH = /\.(png|jpe?g|gif|webp)$/i;
const URL_LIKE = /^https?:\/\/\S+$/i;
const DATA_URI = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

export interface ContextDocument {
  source: string;
  text: string;
}

export interface ResolvedReferences {
  images: ImagePart[];
  documents: ContextDocument[];
}

export function isTextType(contentType: string): boolean {
  return (
    contentType.startsWith('text/') ||
    contentType === 'application/json' ||
    contentType.endsWith('+json') ||
    contentType === 'application/x-ndjson' ||
    contentType === 'application/markdown'
  );
}

type Resolved = { image: ImagePart } | { document: ContextDocument };

function fromDataUri(uri: string, param: string): Resolved {
  const match = DATA_URI.exec(uri);
  if (!match) throw invalidRequest(`The data: URI in '${param}' is malformed.`, param, 'invalid_value');
  const type = (match[1] || 'text/plain').toLowerCase();
  const base64 = match[2].toLowerCase().split(';').includes('base64');
  if (type.startsWith('image/')) {
    // Upstreams only take base64 image data URIs.
    const url = base64 ? uri : `data:${type};base64,${Buffer.from(decodeURIComponent(match[3]), 'utf8').toString('base64')}`;
    return { image: { type: 'image_url', image_url: { url } } };
  }
  if (isTextType(type)) {
    const text = base64 ? Buffer.from(match[3], 'base64').toString('utf8') : decodeURIComponent(match[3]);
    return { document: { source: `data:${type}`, text } };
  }
  throw invalidRequest(`The data: URI in '${param}' has type "${type}"; only images and text documents can be referenced.`, param, 'invalid_value');
}

async function fromUrl(url: string, param: string, allowPrivate: boolean): Promise<Resolved> {
  let path = '';
  try {
    path = new URL(url).pathname;
  } catch {
    // not parseable: safeFetch below says so in the OpenAI envelope
  }
  if (IMAGE_PATH.test(path)) return { image: { type: 'image_url', image_url: { url } } };
  const fetched = await safeFetch(url, {
    what: 'reference',
    param,
    maxBytes: Math.max(IMAGE_MAX_BYTES, DOCUMENT_MAX_BYTES),
    timeoutMs: FETCH_TIMEOUT_MS,
    allowPrivate,
    accept: (type) => type.startsWith('image/') || isTextType(type),
  });
  if (fetched.contentType.startsWith('image/')) return { image: { type: 'image_url', image_url: { url } } };
  if (fetched.body.length > DOCUMENT_MAX_BYTES) {
    throw invalidRequest(`The document at ${url} is larger than ${DOCUMENT_MAX_BYTES} bytes.`, param, 'invalid_url');
  }
  return { document: { source: url, text: fetched.body.toString('utf8') } };
}

/** Resolves every reference (URLs fetched in parallel), keeping the client's order. */
export async function resolveReferences(references: string[], allowPrivate: boolean): Promise<ResolvedReferences> {
  const resolved = await Promise.all(
    references.map((ref, i): Resolved | Promise<Resolved> => {
      const param = `references[${i}]`;
      const trimmed = ref.trim();
      if (/^data:/i.test(trimmed)) return fromDataUri(trimmed, param);
      if (URL_LIKE.test(trimmed)) return fromUrl(trimmed, param, allowPrivate);
      return { document: { source: `reference ${i + 1}`, text: ref } };
    }),
  );
  const out: ResolvedReferences = { images: [], documents: [] };
  for (const r of resolved) {
    if ('image' in r) out.images.push(r.image);
    else out.documents.push(r.document);
  }
  return out;
}

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
// A document that contains the closing delimiter must not be able to end its own block early.
const escapeBody = (s: string) => s.replace(/<\/document>/gi, '<\\/document>');

/**
 * The user message of a turn: context documents first (models answer better with the material before
 * the question), then the question; image parts after the text.
 */
export function questionContent(question: string, refs: ResolvedReferences): UserMessage['content'] {
  const blocks = refs.documents.map((d) => `<document source="${escapeAttribute(d.source)}">\n${escapeBody(d.text)}\n</document>`);
  const text = blocks.length ? `${blocks.join('\n\n')}\n\n${question}` : question;
  if (!refs.images.length) return text;
  const parts: UserContentPart[] = [{ type: 'text', text }, ...refs.images];
  return parts;
}
