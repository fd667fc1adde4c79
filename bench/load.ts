// Closed-loop load: `concurrency` workers each send the next request as soon as the last one ended,
// for a fixed time. Latencies are measured at the client, as a user of the gateway would see them.

import { Agent, request } from 'undici';

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface RunResult {
  requests: number;
  /** Requests sent during the warm-up (not in the latencies, but they cost the server CPU too). */
  warmupRequests: number;
  errors: number;
  seconds: number;
  /** Milliseconds, sorted ascending. */
  latencies: number[];
  /** Streaming only: time to the first body byte, milliseconds, sorted. */
  firstChunk: number[];
}

const BODY = (stream: boolean) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Write one sentence about a fox and a dog.' },
    ],
    max_tokens: 64,
    ...(stream ? { stream: true } : {}),
  });

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runLoad(target: Target, opts: { concurrency: number; seconds: number; stream: boolean; warmupSeconds?: number }): Promise<RunResult> {
  const agent = new Agent({ connections: opts.concurrency, keepAliveTimeout: 30_000, pipelining: 1 });
  const body = BODY(opts.stream);
  const headers = { 'content-type': 'application/json', ...target.headers };
  const url = `${target.url}/v1/chat/completions`;
  const latencies: number[] = [];
  const firstChunk: number[] = [];
  let errors = 0;
  let warmupRequests = 0;
  let recording = false;
  let stopAt = 0;

  async function one(): Promise<void> {
    const t0 = performance.now();
    let first = 0;
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
      for await (const piece of res.body) {
        if (!first && (piece as Buffer).length) first = performance.now();
      }
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    } catch {
      if (recording) errors++;
      return;
    }
    const t1 = performance.now();
    if (!recording) {
      warmupRequests++;
      return;
    }
    latencies.push(t1 - t0);
    if (opts.stream) firstChunk.push(first - t0);
  }

  async function worker(): Promise<void> {
    while (performance.now() < stopAt) await one();
  }

  const warmup = opts.warmupSeconds ?? 1;
  stopAt = performance.now() + warmup * 1000;
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  recording = true;
  const started = performance.now();
  stopAt = started + opts.seconds * 1000;
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  latencies.sort((a, b) => a - b);
  firstChunk.sort((a, b) => a - b);
  return { requests: latencies.length, warmupRequests, errors, seconds, latencies, firstChunk };
}
