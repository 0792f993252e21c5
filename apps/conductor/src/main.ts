import { Logger } from '@nestjs/common';
import { bootstrapConductor } from './bootstrap';
import { InvalidConductorEnvError, loadConductorConfig, type ConductorConfig } from './config/env.validators';
import { devConsoleToken } from './console-auth/dev-console-token';
import { ShutdownGateService } from './shutdown-gate/shutdown-gate.service';

/**
 * After the ready file is written the deploy may kill us at any moment; a
 * close that hangs (a stuck socket) must not turn a clean drain into a
 * non-zero exit.
 */
const CLOSE_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const logger = new Logger('conductor');
  let config: ConductorConfig;
  try {
    config = loadConductorConfig();
  } catch (error) {
    if (error instanceof InvalidConductorEnvError) {
      logger.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const dev = await devConsoleToken(config);
  const app = await bootstrapConductor(dev ? { consoleAuth: dev.consoleAuth } : {});
  if (dev) {
    // Development only (NODE_ENV=development, no CONSOLE_TOKEN): the operator needs the token to log in.
    logger.log(`operator console: open http://localhost:${config.httpPort} and log in with ${dev.token} (kept in ${dev.file})`);
  }
  // SIGINT stops at once (dev); SIGTERM goes through the gate so workers are not orphaned.
  app.enableShutdownHooks(['SIGINT']);
  const gate = app.get(ShutdownGateService);
  process.on('SIGTERM', () => void gate.requestShutdown('SIGTERM'));
  const outcome = await gate.whenReady();
  if (outcome.mode === 'handoff') {
    // No app.close(): closing the launcher stops local worker processes, and in handoff they
    // must outlive us and reconnect to the next conductor. Intake and launches are already
    // stopped; exiting drops the gRPC and database connections with the process.
    logger.log('handoff complete; exiting');
    process.exit(0);
  }
  const timer = setTimeout(() => {
    logger.warn(`closing took longer than ${CLOSE_TIMEOUT_MS} ms; exiting anyway`);
    process.exit(0);
  }, CLOSE_TIMEOUT_MS);
  timer.unref();
  await app.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  new Logger('conductor').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
