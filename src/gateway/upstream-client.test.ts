import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { CallAbort } from './call-abort.js';
import { UpstreamTransportError, createUpstreamAgent, sendUpstream } from './upstream-client.js';

const agent = createUpstreamAgent({ connectMs: 1_000, firstByteMs: 5_000, idleMs: 5_000 });
let handle: (req: IncomingMessage, res: ServerResponse) => void = () => {};
const server = createServer((req, res) => handle(req, res));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
after(async () => {
  await agent.close();
  server.closeAllConnections();
  server.close();
});

const call = (abort = new CallAbort()) => sendUpstream(agent, { url, headers: { 'content-type': 'application/json' }, body: '{}' }, abort);
const bytes = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => 97 + ((i * seed) % 26)));

test('a whole body larger than the pause threshold is read complete', async () => {
  const sent = bytes(1 << 20, 7);
  handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < sent.length; i += 16_384) res.write(sent.subarray(i, i + 16_384));
    res.end();
  };
  const response = await call();
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/json');
  assert.equal(await response.body.text(), sent.toString());
});

test('a streamed body arrives whole and in order through a slow reader, and an unread one holds the upstream back', async () => {
  const sent = bytes(16 << 20, 11);
  let allWritten = false;
  handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let at = 0;
    const more = () => {
      while (at < sent.length) {
        if (!res.write(sent.subarray(at, (at += 65_536)))) return void res.once('drain', more);
      }
      allWritten = true;
      res.end();
    };
    more();
  };
  const response = await call();
  // Nothing reads for a while: the paused socket must hold the server back instead of the gateway buffering 16 MiB.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(allWritten, false, 'the upstream could not send everything to a reader that is not reading');
  const received: Buffer[] = [];
  for await (const chunk of response.body) {
    received.push(chunk);
    if (received.length % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.ok(Buffer.concat(received).equals(sent));
});

test('a reader that stops early closes the upstream request', { timeout: 5_000 }, async () => {
  let closedEarly: Promise<boolean> = Promise.resolve(false);
  handle = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: 1\n\n');
    const timer = setInterval(() => res.write('data: more\n\n'), 20);
    closedEarly = new Promise((resolve) => res.on('close', () => resolve(!res.writableEnded)));
    res.on('close', () => clearInterval(timer));
    void req;
  };
  const response = await call();
  for await (const chunk of response.body) {
    assert.match(chunk.toString(), /data: 1/);
    break;
  }
  assert.equal(await closedEarly, true);
});

test('arrival waits for the first bytes without taking them, and a reset before any byte rejects it', { timeout: 5_000 }, async () => {
  handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    setTimeout(() => res.end('data: first\n\n'), 50);
  };
  const response = await call();
  await response.body.arrival();
  const received: string[] = [];
  for await (const chunk of response.body) received.push(chunk.toString());
  assert.equal(received.join(''), 'data: first\n\n');

  handle = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    setTimeout(() => req.socket.destroy(), 50);
  };
  const reset = await call();
  await assert.rejects(reset.body.arrival());

  handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end();
  };
  const empty = await call();
  await empty.body.arrival();
  for await (const chunk of empty.body) assert.fail(`an empty body yielded ${chunk.length} bytes`);
});

test('an abort before the answer rejects as aborted and closes the upstream request', { timeout: 5_000 }, async () => {
  let upstreamClosed!: Promise<void>;
  handle = (_req, res) => {
    upstreamClosed = new Promise((resolve) => res.on('close', () => resolve()));
  };
  const abort = new CallAbort();
  const pending = call(abort);
  await new Promise((r) => setTimeout(r, 50));
  abort.abort(undefined);
  await assert.rejects(pending, (err) => err instanceof UpstreamTransportError && err.kind === 'aborted');
  await upstreamClosed;
});

test('an abort mid-body fails the read with the abort reason', async () => {
  handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  };
  const abort = new CallAbort();
  const response = await call(abort);
  const reading = response.body.text();
  abort.abort(new UpstreamTransportError('timeout', 'total timeout reached'));
  await assert.rejects(reading, (err) => err instanceof UpstreamTransportError && err.kind === 'timeout');
});

test('an informational 103 before the answer is skipped', { timeout: 5_000 }, async () => {
  handle = (_req, res) => {
    res.writeEarlyHints({ link: '</x>; rel=preload' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  const response = await call();
  assert.equal(response.status, 200);
  assert.deepEqual(await response.body.json(), { ok: true });
});

test('a refused connection is a connect failure', async () => {
  const abort = new CallAbort();
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  await assert.rejects(
    sendUpstream(agent, { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: {}, body: '{}' }, abort),
    (err) => err instanceof UpstreamTransportError && err.kind === 'connect',
  );
});
