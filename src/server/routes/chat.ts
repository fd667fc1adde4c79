// POST /v1/chat/completions — the OpenAI Chat Completions API over every provider.

import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import { completeChat, streamChat } from '../../gateway/chat.js';
import { GatewayError } from '../../gateway/errors.js';
import { validateChatRequest } from '../../gateway/validate-request.js';
import { SseWriter } from '../sse.js';
import type { authenticate } from '../app.js';
import { newRequestId } from '../../store/ids.js';
import { CallAbort } from '../../gateway/call-abort.js';

/** A cancellation that fires when the client closes the connection before the answer is complete. */
export function clientGone(res: import('node:http').ServerResponse): CallAbort {
  const controller = new CallAbort();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller;
}

/** Resolves when the response can take more, or is gone (then the upstream is aborted by clientGone). */
function drained(res: import('node:http').ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function registerChatRoutes(app: FastifyInstance, gw: Gateway, auth: authenticate): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const key = await auth(request);
    const chatRequest = validateChatRequest(request.body, gw.config.maxMessages);
    const requestId = newRequestId();
    request.logFields = { requestId, keyId: key.id, model: chatRequest.model };
    reply.header('x-request-id', requestId);
    const aborted = clientGone(reply.raw);
    if (!chatRequest.stream) {
      return reply.send(await completeChat(gw, { requestId, key, request: chatRequest, abort: aborted }));
    }
    const sse = new SseWriter(reply.raw);
    const start = () => {
      if (sse.started) return;
      reply.hijack();
      sse.start({ 'x-request-id': requestId });
    };
    // A slow upstream (long reasoning, a non-streaming upstream behind a streaming client) would leave the
    // connection silent; proxies close silent connections, so a comment goes out when nothing did for a while.
    let lastWrite = Date.now();
    const keepAlive = setInterval(() => {
      if (Date.now() - lastWrite < gw.config.streamKeepAliveMs) return;
      start();
      sse.keepAlive();
      lastWrite = Date.now();
    }, gw.config.streamKeepAliveMs);
    const chunks = streamChat(gw, { requestId, key, request: chatRequest, abort: aborted });
    try {
      for await (const batch of chunks) {
        start();
        lastWrite = Date.now();
        // Backpressure: a slow reader makes the upstream wait instead of the gateway buffering its stream.
        if (!sse.send(batch)) await drained(reply.raw);
      }
      start();
      sse.done();
    } catch (err) {
      // Before the first byte the error is an ordinary HTTP error; after it, an error event ends the stream.
      if (!sse.started) throw err;
      sse.fail(GatewayError.from(err).error);
    } finally {
      clearInterval(keepAlive);
    }
    return reply;
  });
}
