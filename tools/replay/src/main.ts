/**
 * What-if scheduling: runs a scenario through the scheduler's own code against
 * a fresh, throw-away database.
 *
 *   npm run --silent replay -- <scenario.jsonl> [--routing FILE] [--simulate [--job-minutes M] [--max-active-jobs N] [--repo-max-active-jobs K]]
 *
 * stdout: one JSON object per spawn decision and nothing else, so it can be
 * diffed or piped into jq. stderr: rejections, malformed lines, a summary.
 * --simulate adds each job's claim key ("repository") and launch time
 * ("startAt") under the admission rules (docs/replay-simulate.md).
 * Exit 0 when the scenario ran (rejected lines included); 1 when it could not
 * run; 2 on bad usage (--help prints the usage).
 */
import { startCli } from '@agent-conductor/cli-args';
import { loadRoutingFile, RoutingFileError } from '@agent-conductor/scheduling';
import type { RoutingTable } from '@agent-conductor/scheduling-domain';
import { RunningPostgres, startTestPostgres } from '@agent-conductor/testing';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { formatSummary, replayLines } from './replay';
import { REPLAY_CLI, replayArgs, type ReplayArgs } from './replay-args';
import { createScheduler } from './scheduler';

// Jobs only record it; a replay never clones anything.
const REPLAY_REPOSITORY_URL = 'replay://default-repository';

function fail(message: string, code: number): never {
  process.stderr.write(`replay: ${message}\n`);
  process.exit(code);
}

async function main({ file, routingFile, simulation }: ReplayArgs): Promise<void> {
  try {
    await access(file);
  } catch {
    fail(`cannot read scenario file ${file}`, 1);
  }
  let routing: RoutingTable | undefined;
  try {
    // Checked before the database starts: a bad routing file costs nothing.
    routing = routingFile !== undefined ? loadRoutingFile(routingFile) : undefined;
  } catch (error) {
    if (!(error instanceof RoutingFileError)) throw error;
    fail(`--routing: ${error.message}`, 2);
  }

  let postgres: RunningPostgres;
  try {
    postgres = await startTestPostgres();
  } catch (error) {
    fail(`could not create the replay database: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
  // Ctrl-C must not leave a database (or an embedded cluster in a temp dir) behind.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`replay: ${signal}, cleaning up\n`);
    void postgres.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const scheduler = createScheduler(postgres.databaseUrl, REPLAY_REPOSITORY_URL, routing);
  let exitCode = 0;
  try {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    const summary = await replayLines(lines, scheduler, {
      decision: (decision) => process.stdout.write(`${JSON.stringify(decision)}\n`),
      note: (text) => process.stderr.write(`${text}\n`),
    }, simulation ? { simulation } : {});
    process.stderr.write(`${formatSummary(summary)}\n`);
  } catch (error) {
    process.stderr.write(`replay: scenario aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    exitCode = 1;
  } finally {
    await scheduler.close();
    if (!interrupted) await postgres.stop();
  }
  process.exitCode = exitCode;
}

main(startCli(REPLAY_CLI, replayArgs)).catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error), 1);
});
