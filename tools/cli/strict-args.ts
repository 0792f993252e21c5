import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The command-line convention of the local tools for `status` and `jobs`: node:util parseArgs in strict mode,
 * `--help` only prints (exit 0), and an unknown or malformed argument is refused with exit 2 before any work.
 * (tools/cli-args on the `clis` branch generalises the same convention; these two can move onto it.)
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type StrictOptions = NonNullable<ParseArgsConfig['options']>;

export function parseStrict<O extends StrictOptions>(argv: readonly string[], options: O, allowPositionals: boolean) {
  // `npm run x -- -- --flag` would make every flag a positional; a leading `--` is npm's, not the user's.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((argument) => argument === '--help' || argument === '-h');
}

/** Runs `main`: a UsageError prints the usage and exits 2, any other error exits 1; `name` prefixes messages. */
export function runCli(name: string, usage: string, argv: readonly string[], main: (argv: readonly string[]) => Promise<number>): void {
  if (wantsHelp(argv)) {
    process.stdout.write(usage);
    return;
  }
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${name}: ${error.message}\n\n${usage}`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
