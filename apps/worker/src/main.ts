import { Logger } from '@nestjs/common';
import { runWorker } from './bootstrap';
import { parseWorkerEnv, WorkerConfigError, type WorkerConfig } from './config/env.validators';
import { createWorkerLogger } from './logging/worker-logger';

async function main(): Promise<number> {
  let config: WorkerConfig;
  try {
    config = parseWorkerEnv(process.env);
  } catch (error) {
    if (error instanceof WorkerConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  // The token lives on in the config only; nothing spawned from here on can inherit it.
  delete process.env['WORKER_TOKEN'];
  const outcome = await runWorker(config, { logger: createWorkerLogger(config) });
  // A job that ended (succeeded or failed) and was reported is a clean exit; only an unreported end is not.
  return outcome.reported ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    new Logger('worker').error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
