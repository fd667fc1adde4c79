// Process entry for `npm start` and `omnigate serve`.

import { loadConfig, ConfigError } from './config.js';
import { startGateway } from './server/start.js';
import { conversationRoutes } from './conversations/routes.js';

export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`omnigate: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let running;
  try {
    running = await startGateway(config, { modules: [conversationRoutes] });
  } catch (err) {
    process.stderr.write(`omnigate: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { gw, url } = running;
  if (config.adminKeyGenerated) {
    // Shown once; set OMNIGATE_ADMIN_KEY to keep a stable one.
    process.stderr.write(`omnigate: generated admin key (set OMNIGATE_ADMIN_KEY to choose one): ${config.adminKey}\n`);
  }
  gw.log.info({ url, database: config.databaseUrl.startsWith('file:') ? 'sqlite' : 'postgres', redis: Boolean(config.redisUrl) }, 'omnigate ready');
  let stopping = false;
  const shutdown = (signal: string, exitCode = 0) => {
    if (stopping) {
      // A second signal while draining: the operator does not want to wait.
      gw.log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    gw.log.info({ signal, drainTimeoutMs: config.timeouts.drainMs }, 'shutting down: draining in-flight requests');
    running
      .stop()
      .then(() => {
        gw.log.info('shutdown complete');
        process.exit(exitCode);
      })
      .catch((err) => {
        gw.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A stray rejection is a bug to log, not a reason to drop every in-flight stream and its billing.
  process.on('unhandledRejection', (err) => gw.log.error({ err }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    gw.log.fatal({ err }, 'uncaught exception: draining and exiting');
    shutdown('uncaughtException', 1);
  });
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) void serve();
