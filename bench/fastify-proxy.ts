// The framework's floor: Fastify, the same HTTP client as Omnigate (undici), and the JSON parsed and
// re-serialised on the way in and out (the model field rewritten), with no gateway work at all. Whatever
// Omnigate costs above this path is its own doing. Env: UPSTREAM. Prints its URL on stdout when listening.

import Fastify from 'fastify';
import { Agent, request } from 'undici';

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9';
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
const app = Fastify({ logger: false });

app.post('/v1/chat/completions', async (req) => {
  const up = await request(`${upstream}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify(req.body),
    dispatcher: agent,
  });
  const body = (await up.body.json()) as { model?: string };
  body.model = (req.body as { model?: string }).model;
  return body;
});

app.listen({ port: 0, host: '127.0.0.1' }).then((address) => process.stdout.write(`${address}\n`));
process.on('SIGTERM', () => process.exit(0));
