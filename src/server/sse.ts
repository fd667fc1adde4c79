// The one SSE writer for /v1/chat/completions: `data:` lines only (no `event:` lines, which the
// OpenAI SDK treats differently), `[DONE]` only after a complete answer, an error payload otherwise.

import type { ServerResponse } from 'node:http';
import type { OpenAIErrorBody } from '../providers/types.js';

export class SseWriter {
  private corked = false;

  constructor(private readonly res: ServerResponse) {}

  /**
   * Chunks that arrive together from upstream (one network read holds many events) are translated in
   * one run of microtasks; corking until the next tick sends them in one write instead of one each.
   */
  private batch(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.cork();
    process.nextTick(() => {
      this.corked = false;
      this.res.uncork();
    });
  }

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

  /**
   * Sends chunks as events, in one write. False when the client is not keeping up (or gone): wait for
   * 'drain' before sending more.
   */
  send(payloads: readonly unknown[]): boolean {
    if (this.res.destroyed) return false;
    this.batch();
    let text = '';
    for (const payload of payloads) text += `data: ${JSON.stringify(payload)}\n\n`;
    return this.res.write(text);
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
