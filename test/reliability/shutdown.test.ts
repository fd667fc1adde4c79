// Shutdown in process: which connections may hold the drain open. A connection that never sent a byte
// (a pool's pre-opened connection, a TCP health probe) may not; a stream still running may.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startHarness } from '../helpers/harness.js';
import { openaiStream } from '../billing/support/replies.js';

function openConnection(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

const closedOf = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

test('a connection that never sent a request does not hold shutdown until the drain timeout; a running stream still ends whole', async () => {
  const h = await startHarness({ env: { OMNIGATE_DRAIN_TIMEOUT_MS: '10000' } });
  try {
    const silent = await openConnection(h.url);
    const silentClosed = closedOf(silent);
    h.sim.enqueue(openaiStream(['one ', 'two ', 'three'], undefined, { delayMs: 100 }));
    const stream = await h.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const started = Date.now();
    const stopped = h.gateway.stop();
    await silentClosed;
    let text = '';
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) text += r.value.choices[0]?.delta?.content ?? '';
    await stopped;
    const took = Date.now() - started;
    assert.equal(text, 'one two three');
    assert.ok(took < 3_000, `shutdown took ${took} ms: the silent connection held it`);
  } finally {
    await h.close();
  }
});
