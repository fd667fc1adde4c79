// Builds a running gateway from a config: store, catalog, upstream pool, HTTP app, background sweeper,
// and a graceful stop (stop accepting, drain streams, write every pending usage record, close the store).

import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { Catalog } from '../catalog/catalog.js';
import { openStore } from '../store/database.js';
import { createUpstreamAgent } from '../gateway/upstream-client.js';
import { createMetrics } from '../gateway/metrics.js';
import { createDeploymentBreakers } from '../gateway/route.js';
import type { Gateway } from '../gateway/gateway.js';
import { openBilling } from '../billing/billing.js';
import { buildApp, type RouteModule } from './app.js';

export interface RunningGateway {
  gw: Gateway;
  app: FastifyInstance;
  url: string;
  /** Stops accepting, lets in-flight requests finish up to the drain timeout, settles, closes. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  modules?: RouteModule[];
}

/** How long a log line may wait in the buffer before it is written. */
const LOG_FLUSH_MS = 250;

/**
 * Standard output, written off the event loop and in pieces of at least 32 KiB: one write (a thread-pool
 * job and its wake-ups) per ~120 request lines. A write costs the event loop about as much as
 * formatting thirty lines: at 4 KiB pieces the log line was 6 % of a request's main-thread profile, at
 * 32 KiB 3.6 %. Lines wait as buffers, not as one growing string: sonic-boom measures the byte length
 * of its pending string at every line, which flattens it, so each line copied the ~2 KiB already
 * waiting (5 % of what a request allocated). Buffer mode keeps a list and joins it once per write.
 * What waits longer than LOG_FLUSH_MS is written by sonic-boom's own timer; pino flushes the rest at exit.
 */
function logDestination(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 32 * 1024, maxWrite: 64 * 1024, contentMode: 'buffer', periodicFlush: LOG_FLUSH_MS });
}

/** pino hands its destination strings; the buffer-mode destination takes bytes (logDestination). */
const lineAsBytes = (line: string) => Buffer.from(line) as unknown as string;

/**
 * Closes, on demand, the connections that never sent a byte: a load balancer's or client pool's
 * pre-opened connection, a TCP health probe. Node's closeIdleConnections() leaves them open (it counts a
 * connection as busy from its start until its first request is done), so without this a drain would
 * wait the whole drain timeout for them. A connection that sent part of a request is left to finish it.
 */
function unusedConnectionCloser(server: Server): () => void {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return () => {
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
  };
}

export async function startGateway(config: Config, options: StartOptions = {}): Promise<RunningGateway> {
  const log = options.logger ?? pino({ level: config.logLevel, base: { service: 'omnigate' }, hooks: { streamWrite: lineAsBytes } }, logDestination());
  const catalog = new Catalog(config);
  const store = await openStore(config.databaseUrl, {
    writerThread: true,
    onWriterFailure: (err) => log.error({ err }, 'the SQLite writer thread failed; settlements are written on the main thread again'),
  });
  const agent = createUpstreamAgent(config.timeouts);
  const billing = await openBilling(config, store, log);
  const metrics = createMetrics();
  const breakers = createDeploymentBreakers(config, metrics, log);
  const gw: Gateway = { config, catalog, store, agent, log, metrics, breakers, billing, pending: new Set(), settling: new Map() };
  let draining = false;
  const app = buildApp(gw, { modules: options.modules, health: { isDraining: () => draining, checks: billing.checks } });
  const closeUnusedConnections = unusedConnectionCloser(app.server);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      draining = true;
      const closed = app.close();
      closeUnusedConnections();
      // close() only drops the connections idle right now; a keep-alive client whose stream ends later
      // would hold the drain open until the timeout, so drop each connection as soon as it goes idle.
      const idleCloser = setInterval(() => app.server.closeIdleConnections(), 50);
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.timeouts.drainMs).unref()),
      ]);
      clearInterval(idleCloser);
      if (!drained) {
        log.warn('drain timeout reached: closing remaining connections');
        app.server.closeAllConnections();
        await closed;
      }
      // Usage records are retried until written; past this deadline one that still fails is logged in full.
      billing.shutdown(Date.now() + config.timeouts.drainMs);
      while (gw.pending.size) await Promise.allSettled([...gw.pending]);
      await billing.close();
      await agent.close();
      await store.close();
    })());

  return { gw, app, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, stop };
}
