// What a client sees from /v1/chat/completions, read with plain fetch so that nothing (an SDK's retries,
// its parsing) stands between the test and the bytes the gateway sent.

import assert from 'node:assert/strict';
import type { Harness } from '../helpers/harness.js';

export interface ClientView {
  status: number;
  headers: Headers;
  /** Non-streaming (and any error answered before a stream started): the parsed JSON body. */
  body?: any;
  /** Streaming: the data payloads in order, parsed, without [DONE]. */
  events: any[];
  done: boolean;
  text: string;
  ms: number;
}

export async function send(url: string, apiKey: string, body: unknown, init: RequestInit = {}): Promise<ClientView> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  const view: ClientView = { status: res.status, headers: res.headers, events: [], done: false, text, ms: performance.now() - started };
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    for (const block of text.split('\n\n')) {
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (!data) continue;
      if (data === '[DONE]') view.done = true;
      else view.events.push(JSON.parse(data));
    }
  } else {
    view.body = JSON.parse(text);
  }
  return view;
}

/** Asserts the OpenAI error envelope: {error: {message, type, param, code}}, with a non-empty message. */
export function assertEnvelope(body: any, context = ''): void {
  assert.ok(body && typeof body === 'object' && body.error && typeof body.error === 'object', `no error envelope ${context}: ${JSON.stringify(body)?.slice(0, 300)}`);
  const e = body.error;
  assert.ok(typeof e.message === 'string' && e.message.length > 0, `error.message ${context}`);
  assert.equal(typeof e.type, 'string', `error.type ${context}`);
  assert.ok('param' in e && 'code' in e, `error.param and error.code present ${context}`);
  assert.ok(!/\bat .+:\d+:\d+\)?$/m.test(e.message), `no stack trace in the message ${context}`);
}

/** Every settlement of the gateway written, then the usage records of one key. */
export async function usageOf(h: Harness, keyId: string): Promise<any[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    await Promise.allSettled([...h.gateway.gw.pending]);
    const res = await h.admin('GET', `/admin/usage?key_id=${keyId}`);
    if (res.body.data?.length || Date.now() > deadline) {
      await Promise.allSettled([...h.gateway.gw.pending]);
      return (await h.admin('GET', `/admin/usage?key_id=${keyId}`)).body.data ?? [];
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The gateway still answers: liveness, and a normal request end to end. */
export async function assertHealthy(h: Harness, model = 'gpt-4o-mini'): Promise<void> {
  const live = await fetch(`${h.url}/healthz`);
  assert.equal(live.status, 200);
  const ok = await send(h.url, h.apiKey, { model, messages: [{ role: 'user', content: 'still there?' }] });
  assert.equal(ok.status, 200, `a normal request after the fault: ${ok.text.slice(0, 300)}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one sample line of the Prometheus text format, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}
