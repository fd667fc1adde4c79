// SIGTERM on a real process (`node --import tsx src/main.ts`): it stops accepting, lets an in-flight
// stream finish, writes its usage record, closes the database and exits 0. Past the drain timeout the
// stream is cut, and still billed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulator, type Reply, type SseFrame } from '../simulators/server.js';
import { openStore } from '../../src/store/database.js';
import { listUsage } from '../../src/store/usage.js';
import { sleep } from './support.js';

const ADMIN = 'sigterm-admin-key-0123456789';
const root = resolve(import.meta.dirname, '../..');

function slowStream(words: number, delayMs: number): Reply {
  const chunk = (delta: object, finish: string | null = null) =>
    JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });
  const frames: SseFrame[] = [{ data: chunk({ role: 'assistant', content: '' }) }];
  for (let i = 0; i < words; i++) frames.push({ data: chunk({ content: `w${i} ` }) });
  frames.push({ data: chunk({}, 'stop') }, { data: '[DONE]' });
  return { kind: 'sse', frames, delayMs };
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

interface Gateway {
  child: ChildProcess;
  url: string;
  dbUrl: string;
  exited: Promise<number | null>;
  output: () => string;
}

async function startProcess(sim: Simulator, dir: string, env: Record<string, string> = {}): Promise<Gateway> {
  const port = await freePort();
  const dbUrl = `file:${join(dir, `omnigate-${port}.db`)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env: { ...process.env, ...sim.env(), PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl, OMNIGATE_ADMIN_KEY: ADMIN, OMNIGATE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet listening
    }
    if (i > 300) throw new Error(`gateway did not start: ${output}`);
    await sleep(50);
  }
  return { child, url, dbUrl, exited, output: () => output };
}

async function createKey(url: string): Promise<{ id: string; key: string }> {
  const res = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sigterm', credit_usd: 10 }),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as { id: string; key: string };
}

/** Starts a stream and resolves once its first content chunk arrived, with a promise of the whole text. */
async function startStream(url: string, key: string): Promise<{ rest: Promise<string> }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a slow answer' }] }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('w0')) text += new TextDecoder().decode((await reader.read()).value);
  const rest = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    } catch {
      return text; // the connection was cut
    }
  })();
  return { rest };
}

async function usageIn(dbUrl: string, keyId: string) {
  const store = await openStore(dbUrl);
  try {
    return await listUsage(store, { keyId });
  } finally {
    await store.close();
  }
}

describe('graceful shutdown of a real process', () => {
  const sim = new Simulator();
  let dir: string;
  before(async () => {
    await sim.start();
    dir = mkdtempSync(join(tmpdir(), 'omnigate-sigterm-'));
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM during a slow stream: the stream completes, new requests are refused, the record is written, exit 0', async () => {
    const gw = await startProcess(sim, dir);
    const key = await createKey(gw.url);
    sim.enqueue(slowStream(20, 50)); // about a second
    const stream = await startStream(gw.url, key.key);
    gw.child.kill('SIGTERM');
    await sleep(100);
    const refused = await fetch(`${gw.url}/healthz`).then((r) => r.status, () => 'refused');
    assert.ok(refused === 'refused' || refused === 503, `no new work while draining (${refused})`);
    const text = await stream.rest;
    assert.ok(text.includes('w19'), 'every chunk arrived');
    assert.ok(text.trimEnd().endsWith('data: [DONE]'), 'the stream completed');
    assert.equal(await gw.exited, 0, gw.output());
    const usage = await usageIn(gw.dbUrl, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].status, 'ok');
    assert.ok(usage[0].completion_tokens > 0 && usage[0].cost_nano > 0);
    assert.match(gw.output(), /shutdown complete/);
    // One JSON line per request (pino), still in the log buffer when the signal came: written at exit.
    const lines = gw.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = lines.filter((l) => l.msg === 'request' && l.url === '/v1/chat/completions');
    assert.equal(requestLines.length, 1, gw.output());
    assert.equal(requestLines[0].status, 200);
    assert.equal(requestLines[0].requestId, usage[0].id);
  });

  test('past the drain timeout the stream is cut, billed for what it streamed, and the process still exits 0', async () => {
    const gw = await startProcess(sim, dir, { OMNIGATE_DRAIN_TIMEOUT_MS: '300' });
    const key = await createKey(gw.url);
    sim.enqueue(slowStream(200, 50)); // ten seconds
    const stream = await startStream(gw.url, key.key);
    const started = Date.now();
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0, gw.output());
    assert.ok(Date.now() - started < 3_000, `exited soon after the drain timeout (${Date.now() - started} ms)`);
    const text = await stream.rest;
    assert.ok(!text.includes('[DONE]'), 'the stream was cut');
    const usage = await usageIn(gw.dbUrl, key.id);
    assert.equal(usage.length, 1);
    assert.equal(usage[0].status, 'aborted');
    assert.ok(usage[0].completion_tokens > 0, 'what was streamed is billed');
  });
});
