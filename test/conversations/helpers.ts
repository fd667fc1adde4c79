// Raw HTTP calls to /aichat/conversations, as a client without an SDK would make them.

import { readBody, type Harness } from '../helpers/harness.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export async function ask(h: Harness, body: unknown, opts: { apiKey?: string; accept?: string; signal?: AbortSignal } = {}): Promise<Answer> {
  const res = await fetch(`${h.url}/aichat/conversations`, {
    method: 'POST',
    signal: opts.signal,
    headers: {
      authorization: `Bearer ${opts.apiKey ?? h.apiKey}`,
      'content-type': 'application/json',
      ...(opts.accept ? { accept: opts.accept } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await readBody(res) };
}

export async function call(h: Harness, method: string, path: string, apiKey = h.apiKey): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.url}${path}`, { method, headers: { authorization: `Bearer ${apiKey}` } });
  return { status: res.status, body: await res.json() };
}

/** The JSON objects of an NDJSON body. */
export function ndjsonLines(text: string): any[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** The `data:` payloads of an SSE body, parsed. */
export function sseEvents(text: string): any[] {
  return text
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'))
    .filter(Boolean)
    .map((data) => JSON.parse(data));
}

/** The text of a message's content in any dialect the simulator records (string, parts, blocks). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
