// The HTTP server (Fastify): routes, the OpenAI error envelope for every failure, one log line per request.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { CallerKey, Gateway } from '../gateway/gateway.js';
import { GatewayError } from '../gateway/errors.js';
import { createKeyAuthenticator } from './auth.js';
import { registerChatRoutes } from './routes/chat.js';
import { registerModelRoutes } from './routes/models.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerMeRoute } from './routes/me.js';
import { registerHealthRoutes, type HealthDeps } from './routes/health.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Identifiers a route learns (request id, key, model), added to the request's log line. */
    logFields: Record<string, unknown> | null;
  }
}

export type authenticate = (request: FastifyRequest) => Promise<CallerKey>;

/** Routes added by other modules (conversations) register through this, so app.ts stays the one place. */
export type RouteModule = (app: FastifyInstance, gw: Gateway, auth: authenticate) => void;

export interface AppOptions {
  health?: Partial<HealthDeps>;
  modules?: RouteModule[];
}

/**
 * JSON nested deeper than this is refused with a 400. Parsing copes with any depth, but everything after
 * it that recurses (serialising the body for the upstream, logging) would overflow the stack on a body of
 * a few hundred kilobytes of brackets. No real request comes close.
 */
export const MAX_JSON_DEPTH = 128;

/** Iterative, so the check itself cannot overflow the stack; two parallel stacks, so it allocates no pair per node. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    if (Array.isArray(node)) {
      for (const child of node) {
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

function toGatewayError(err: FastifyError): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = err.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
    return new GatewayError(413, { message: 'The request body is too large.', type: 'invalid_request_error', param: null, code: 'request_too_large' });
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
    return new GatewayError(415, { message: 'Send the request body as application/json.', type: 'invalid_request_error', param: null, code: 'unsupported_media_type' });
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own client errors: malformed JSON, empty body with a JSON content type, bad URL.
    const message = code.startsWith('FST_ERR_CTP') ? `We could not parse the JSON body of your request. (${err.message})` : err.message;
    return new GatewayError(400, { message, type: 'invalid_request_error', param: null, code: 'invalid_json' });
  }
  return GatewayError.from(err);
}

export function buildApp(gw: Gateway, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: gw.log as unknown as FastifyBaseLogger,
    // One log line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: gw.config.bodyLimitBytes,
    // Deep-nesting attacks are caught by the JSON parser's recursion limit; prototype keys are refused.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    forceCloseConnections: false,
    // Fastify would build a child logger per request (just to bind reqId); pino children cost enough to show
    // in profiles of the hot path. The request's identifiers go into its one log line instead (logFields).
    childLoggerFactory: (logger) => logger,
  });
  app.decorateRequest('logFields', null);
  const auth = createKeyAuthenticator(gw);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
        return done(new GatewayError(400, { message: `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`, type: 'invalid_request_error', param: null, code: 'invalid_json' }), undefined);
      }
      done(null, value);
    });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const gatewayError = toGatewayError(err);
    if (gatewayError.status >= 500 && !(err instanceof GatewayError)) request.log.error({ err, reqId: request.id, ...request.logFields }, 'unhandled error');
    reply.code(gatewayError.status).headers(gatewayError.headers).send(gatewayError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { message: `Unknown endpoint ${request.method} ${request.url.split('?')[0]}.`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
  });
  // A callback hook, not an async one: no promise per request for a line of log.
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ reqId: request.id, ...request.logFields, method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  registerHealthRoutes(app, gw, { checks: options.health?.checks ?? {}, isDraining: options.health?.isDraining ?? (() => false) });
  registerChatRoutes(app, gw, auth);
  registerModelRoutes(app, gw, auth);
  registerMeRoute(app, gw, auth);
  registerAdminRoutes(app, gw);
  for (const module of options.modules ?? []) module(app, gw, auth);
  return app;
}
