// A fast OpenAI-compatible upstream for the benchmark: canned answers, no parsing beyond what it
// must, no request log (the test simulator records every request, which would grow memory in a soak).
// Prints its URL on stdout when listening.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const created = 1_770_000_000;
const usage = { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
    system_fingerprint: 'fp_bench',
  }),
);
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_bench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const firstChunk = Buffer.from(chunk({ role: 'assistant', content: '', refusal: null }));
const restOfStream = Buffer.from(
  ['The ', 'quick ', 'brown ', 'fox ', 'jumps ', 'over ', 'the ', 'lazy ', 'dog.'].map((w) => chunk({ content: w })).join('') +
    chunk({}, 'stop') +
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'gpt-4o-mini-2024-07-18', choices: [], usage })}\n\n` +
    'data: [DONE]\n\n',
);
/** The rest of a stream follows the first chunk after this pause, so time to first chunk is measurable apart from the whole. */
const STREAM_GAP_MS = Number(process.env.BENCH_STREAM_GAP_MS ?? 2);

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (p: Buffer) => parts.push(p));
  req.on('end', () => {
    // Only the stream flag is needed; a substring test keeps parsing off the upstream's own clock.
    const stream = Buffer.concat(parts).includes('"stream":true');
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length });
      res.end(completion);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(firstChunk);
    setTimeout(() => res.end(restOfStream), STREAM_GAP_MS);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
