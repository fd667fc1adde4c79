// Turns recorded fixtures into simulator replies.

import { loadChunks, loadJson, loadRaw } from '../fixtures/load.js';
import type { Reply } from './server.js';

/** A recorded stream replayed as SSE; OpenAI-style streams get their closing [DONE]. */
export function replayChunks(path: string, opts: { delayMs?: number; done?: boolean; withEventNames?: boolean } = {}): Reply {
  const frames = loadChunks(path).map((e) => (opts.withEventNames && e.event ? e : { data: e.data }));
  if (opts.done) frames.push({ data: '[DONE]' });
  return { kind: 'sse', frames, delayMs: opts.delayMs };
}

export function replayJson(path: string, status = 200): Reply {
  return { kind: 'json', status, body: loadJson(path) };
}

export function replayRawSse(path: string): Reply {
  return { kind: 'sse', frames: [], raw: loadRaw(path) };
}
