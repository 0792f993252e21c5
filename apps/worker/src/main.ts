import { Logger } from '@nestjs/common';
import { runWorker } from './bootstrap';
import { parseWorkerEnv, WorkerConfigError, type WorkerConfig } from './config/env.validators';
import { createWorkerLogger } from './logging/worker-logger';
import { makeNonDumpable } from './process/non-dumpable';

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
  // The tokens live on in the config only; nothing spawned from here on can inherit them. (The kernel's copy of
  // the initial environment, /proc/<pid>/environ, keeps them: the agent's uid cannot read it, see docs/security.md.)
  for (const name of ['WORKER_TOKEN', 'GITHUB_TOKEN', 'OPENAI_API_KEY']) delete process.env[name];
  const logger = createWorkerLogger(config);
  if (!makeNonDumpable()) logger.warn('The worker could not make itself non-dumpable (prctl PR_SET_DUMPABLE); a process of its uid could read its memory', 'worker');
  const outcome = await runWorker(config, { logger });
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
