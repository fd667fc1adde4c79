// Operations endpoints: liveness, readiness (database and Redis reachable), Prometheus metrics.

import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import { pingStore } from '../../store/database.js';

export interface HealthDeps {
  /** Extra readiness checks (Redis), by name. */
  checks: Record<string, () => Promise<void>>;
  isDraining: () => boolean;
}

export function registerHealthRoutes(app: FastifyInstance, gw: Gateway, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    const all = { database: () => pingStore(gw.store), ...deps.checks };
    await Promise.all(
      Object.entries(all).map(async ([name, check]) => {
        try {
          await check();
          checks[name] = 'ok';
        } catch (err) {
          checks[name] = `unreachable: ${(err as Error).message}`;
        }
      }),
    );
    const ready = !deps.isDraining() && Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : deps.isDraining() ? 'draining' : 'not ready', checks });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', gw.metrics.registry.contentType);
    return gw.metrics.registry.metrics();
  });
}
