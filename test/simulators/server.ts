// One loopback server that speaks every upstream dialect Omnigate calls:
//   POST /v1/chat/completions                          OpenAI, DeepSeek, xAI (OpenAI-compatible)
//   POST /v1/responses                                 OpenAI Responses API (o1-pro)
//   POST /v1/messages                                  Anthropic Messages
//   POST /v1beta/models/{m}:generateContent            Gemini
//   POST /v1beta/models/{m}:streamGenerateContent      Gemini (alt=sse)
// It records every request it receives, answers from a queue of scripted replies (recorded fixtures,
// failures, hangs, resets) and, when the queue is empty, from a per-dialect default that echoes the
// request back as a plausible answer with exact usage.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultReply, dialectOf, type Dialect } from './defaults.js';

export interface RecordedRequest {
  dialect: Dialect;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  rawBody: string;
}

export interface SseFrame {
  event?: string;
  data: string;
}

export type Reply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'text'; status: number; body: string; headers?: Record<string, string> }
  | {
      kind: 'sse';
      frames: SseFrame[];
      /** Pause between frames, to make a stream slow enough to abort or measure. */
      delayMs?: number;
      /** Stop sending after this many frames and keep the connection open (a stalled upstream). */
      hangAfter?: number;
      /** Destroy the socket after this many frames (a connection reset mid-stream). */
      resetAfter?: number;
      /** Raw text written as-is instead of frames (malformed SSE). */
      raw?: string;
    }
  | { kind: 'hang' }
  | { kind: 'reset' };

export type ReplyFactory = Reply | ((req: RecordedRequest) => Reply);

export class Simulator {
  readonly requests: RecordedRequest[] = [];
  /** Paths of static files fetched (image/document references). */
  readonly fileRequests: string[] = [];
  private readonly queue: ReplyFactory[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly files = new Map<string, { contentType: string; body: Buffer }>();
  private server?: Server;
  private port = 0;
  /** Responses still being written (streams), so tests can wait until the upstream side closed. */
  openResponses = 0;
  /** How many responses were closed by the client before the simulator finished them. */
  abortedResponses = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Base URLs in the form each provider variable expects (DESIGN.md section 1). */
  env(): Record<string, string> {
    const key = 'sim-test-key';
    return {
      OPENAI_BASE_URL: `${this.url}/v1`,
      OPENAI_API_KEY: `${key}-openai`,
      ANTHROPIC_BASE_URL: this.url,
      ANTHROPIC_API_KEY: `${key}-anthropic`,
      GEMINI_BASE_URL: this.url,
      GEMINI_API_KEY: `${key}-gemini`,
      DEEPSEEK_BASE_URL: `${this.url}/v1`,
      DEEPSEEK_API_KEY: `${key}-deepseek`,
      XAI_BASE_URL: `${this.url}/v1`,
      XAI_API_KEY: `${key}-xai`,
    };
  }

  /** Queue replies; each request takes the next one, and the defaults answer once the queue is empty. */
  enqueue(...replies: ReplyFactory[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Serve a static file at GET {url}{path}, for image and document references. Returns its URL. */
  serveFile(path: string, contentType: string, body: Buffer | string): string {
    this.files.set(path, { contentType, body: Buffer.isBuffer(body) ? body : Buffer.from(body) });
    return `${this.url}${path}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  last(): RecordedRequest {
    const req = this.requests.at(-1);
    if (!req) throw new Error('the simulator has received no request');
    return req;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const path = req.url ?? '/';
    const file = req.method === 'GET' ? this.files.get(path) : undefined;
    if (file) {
      this.fileRequests.push(path);
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length });
      res.end(file.body);
      return;
    }
    const recorded: RecordedRequest = {
      dialect: dialectOf(path),
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      rawBody,
    };
    this.requests.push(recorded);
    const next = this.queue.shift();
    const reply = next === undefined ? defaultReply(recorded) : typeof next === 'function' ? next(recorded) : next;
    await this.send(reply, req, res);
  }

  private async send(reply: Reply, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (reply.kind) {
      case 'json':
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body));
        return;
      case 'text':
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        res.end(reply.body);
        return;
      case 'hang':
        return; // never answer; the client's timeout or abort ends it
      case 'reset':
        req.socket.destroy();
        return;
      case 'sse':
        return this.stream(reply, res);
    }
  }

  private async stream(reply: Extract<Reply, { kind: 'sse' }>, res: ServerResponse): Promise<void> {
    this.openResponses++;
    res.on('close', () => {
      this.openResponses--;
      if (!res.writableEnded) this.abortedResponses++;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (reply.raw !== undefined) {
      res.end(reply.raw);
      return;
    }
    for (let i = 0; i < reply.frames.length; i++) {
      if (res.destroyed) return;
      if (reply.hangAfter !== undefined && i >= reply.hangAfter) return;
      if (reply.resetAfter !== undefined && i >= reply.resetAfter) {
        res.socket?.destroy();
        return;
      }
      const f = reply.frames[i];
      res.write(`${f.event ? `event: ${f.event}\n` : ''}data: ${f.data}\n\n`);
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    }
    if (!res.destroyed) res.end();
  }
}

export async function startSimulator(): Promise<Simulator> {
  return new Simulator().start();
}
