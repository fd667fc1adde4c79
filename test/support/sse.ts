// Upstream SSE read event by event, for tests that check a stream's events one at a time; the gateway
// itself takes them a network read at a time (SseParser).

import { SseParser } from '../../src/gateway/sse-parser.js';
import type { SseEvent } from '../../src/providers/types.js';

export async function* parseSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const piece of body) yield* parser.push(piece);
  yield* parser.end();
}
