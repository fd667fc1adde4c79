// The one SSE writer for /v1/chat/completions: `data:` lines only (no `event:` lines, which the
// OpenAI SDK treats differently), `[DONE]` only after a complete answer, an error payload otherwise.

import type { ServerResponse } from 'node:http';
import type { OpenAIErrorBody } from '../providers/types.js';

export class SseWriter {
  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.res.headersSent;
  }

  start(headers: Record<string, string> = {}): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    // Headers go out with the first chunk; flushing them alone would cost an extra packet per stream.
  }

  send(payload: unknown): boolean {
    if (this.res.destroyed) return false;
    return this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  /** A comment line: ignored by clients, keeps proxies from closing an idle connection. */
  keepAlive(): void {
    if (!this.res.destroyed) this.res.write(': keep-alive\n\n');
  }

  done(): void {
    if (!this.res.destroyed) this.res.end('data: [DONE]\n\n');
  }

  fail(error: OpenAIErrorBody): void {
    if (this.res.destroyed) return;
    this.res.end(`data: ${JSON.stringify({ error })}\n\n`);
  }
}
