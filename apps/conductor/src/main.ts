import { Logger } from '@nestjs/common';
import { bootstrapConductor } from './bootstrap';
import { InvalidConductorEnvError, loadConductorConfig } from './config/env.validators';
import { ShutdownGateService } from './shutdown-gate/shutdown-gate.service';

async function main(): Promise<void> {
  const logger = new Logger('conductor');
  try {
    loadConductorConfig();
  } catch (error) {
    if (error instanceof InvalidConductorEnvError) {
      logger.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await bootstrapConductor();
  // SIGINT stops at once (dev); SIGTERM goes through the gate so workers are not orphaned.
  app.enableShutdownHooks(['SIGINT']);
  const gate = app.get(ShutdownGateService);
  process.on('SIGTERM', () => void gate.requestShutdown('SIGTERM'));
  await gate.whenReady();
  await app.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  new Logger('conductor').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
