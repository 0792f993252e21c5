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
    throw new UsageError(describeParseError(error, Object.keys(options)));
  }
}

/** parseArgs' messages, in the words of the other local tools: `unknown option --x (known: --a --b)`. */
function describeParseError(error: unknown, known: string[]): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted} (known: ${known.map((name) => `--${name}`).join(' ')})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('argument missing') ? `${quoted.replace(/ <value>$/, '')} needs a value` : `${quoted.split(' ')[0] ?? quoted} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted} (this command takes options only)`;
    default:
      return message;
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
