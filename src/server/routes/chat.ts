// POST /v1/chat/completions — the OpenAI Chat Completions API over every provider.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import { completeChat, streamChat } from '../../gateway/chat.js';
import { GatewayError } from '../../gateway/errors.js';
import { validateChatRequest } from '../../gateway/validate-request.js';
import { SseWriter } from '../sse.js';
import type { authenticate } from '../app.js';

/** An AbortSignal that fires when the client closes the connection before the answer is complete. */
export function clientGone(res: import('node:http').ServerResponse): AbortController {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller;
}

export function registerChatRoutes(app: FastifyInstance, gw: Gateway, auth: authenticate): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const key = await auth(request);
    const chatRequest = validateChatRequest(request.body);
    const requestId = randomUUID();
    request.log = request.log.child({ requestId, keyId: key.id, model: chatRequest.model });
    reply.header('x-request-id', requestId);
    const aborted = clientGone(reply.raw);
    if (!chatRequest.stream) {
      return reply.send(await completeChat(gw, { requestId, key, request: chatRequest, signal: aborted.signal }));
    }
    const sse = new SseWriter(reply.raw);
    const chunks = streamChat(gw, { requestId, key, request: chatRequest, signal: aborted.signal });
    try {
      for await (const chunk of chunks) {
        if (!sse.started) {
          reply.hijack();
          sse.start({ 'x-request-id': requestId });
        }
        sse.send(chunk);
      }
      if (!sse.started) {
        reply.hijack();
        sse.start({ 'x-request-id': requestId });
      }
      sse.done();
    } catch (err) {
      // Before the first byte the error is an ordinary HTTP error; after it, an error event ends the stream.
      if (!sse.started) throw err;
      sse.fail(GatewayError.from(err).error);
    }
    return reply;
  });
}
