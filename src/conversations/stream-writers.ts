// The two streamed forms of an answer: NDJSON (one JSON object per line) and SSE (the same objects as
// `data:` events, through the server's one SSE writer). Both end after the object with `done: true`
// (or `error`); SSE sends no `[DONE]`, since that object already says the answer is complete.

import type { ServerResponse } from 'node:http';
import { SseWriter } from '../server/sse.js';
import type { AnswerFormat } from './request-schema.js';

export interface AnswerStreamWriter {
  readonly started: boolean;
  start(headers: Record<string, string>): void;
  send(payload: unknown): void;
  end(): void;
}

class NdjsonWriter implements AnswerStreamWriter {
  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.res.headersSent;
  }

  start(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
  }

  send(payload: unknown): void {
    if (!this.res.destroyed) this.res.write(`${JSON.stringify(payload)}\n`);
  }

  end(): void {
    if (!this.res.destroyed) this.res.end();
  }
}

class SseAnswerWriter implements AnswerStreamWriter {
  private readonly sse: SseWriter;

  constructor(private readonly res: ServerResponse) {
    this.sse = new SseWriter(res);
  }

  get started(): boolean {
    return this.sse.started;
  }

  start(headers: Record<string, string>): void {
    this.sse.start(headers);
  }

  send(payload: unknown): void {
    this.sse.send([payload]);
  }

  end(): void {
    if (!this.res.destroyed) this.res.end();
  }
}

export function answerStreamWriter(format: Exclude<AnswerFormat, 'json'>, res: ServerResponse): AnswerStreamWriter {
  return format === 'ndjson' ? new NdjsonWriter(res) : new SseAnswerWriter(res);
}
