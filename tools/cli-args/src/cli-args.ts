import { parseArgs } from 'node:util';

/**
 * One command-line convention for every local tool (push:ticket, replay, scenario:*, bench:*, chaos, db:*):
 * node:util parseArgs in strict mode, `--help` that only prints, and unknown or malformed arguments refused
 * with exit 2 before the tool does any work.
 */

export interface StringOption {
  type: 'string';
  /** The placeholder in the usage text: `--history N`. */
  value: string;
  description: string;
  /** May be given more than once; the values come back as an array. */
  multiple?: boolean;
}

export interface BooleanOption {
  type: 'boolean';
  description: string;
}

export type CliOption = StringOption | BooleanOption;
export type CliOptions = Record<string, CliOption>;

export interface CliSpec<O extends CliOptions> {
  /** The npm script name, e.g. `bench:scheduler`; prefixes every message. */
  name: string;
  /** How to run it, e.g. `npm run --silent bench:scheduler -- [--history N]`. */
  synopsis: string;
  /** What it does, in a line or two. */
  summary: string;
  options: O;
  /** Positional arguments: how the usage names them and how many are allowed. None when absent. */
  positionals?: { names: string; min: number; max: number };
  /** Anything else a user needs: output format, exit codes, environment. */
  notes?: string;
}

export type CliValues<O extends CliOptions> = {
  [K in keyof O]?: O[K] extends BooleanOption ? boolean : O[K] extends { multiple: true } ? string[] : string;
};

export interface ParsedCli<O extends CliOptions> {
  values: CliValues<O>;
  positionals: string[];
}

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

const HELP_FLAGS = ['--help', '-h'];

export function formatUsage<O extends CliOptions>(spec: CliSpec<O>): string {
  const rows = Object.entries(spec.options).map(([name, option]) => [
    option.type === 'string' ? `--${name} ${option.value}` : `--${name}`,
    option.type === 'string' && option.multiple ? `${option.description} (may be repeated)` : option.description,
  ]);
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.max(...rows.map(([flag]) => (flag ?? '').length));
  const lines = [`usage: ${spec.synopsis}`, '', spec.summary, '', 'options:', ...rows.map(([flag, text]) => `  ${(flag ?? '').padEnd(width)}  ${text ?? ''}`)];
  if (spec.notes) lines.push('', spec.notes);
  return `${lines.join('\n')}\n`;
}

/**
 * The arguments after the script name, or 'help' when the user asked for it (even next to a mistake: they
 * asked how to use the command, not to be told off). Throws CliUsageError saying what is wrong.
 */
export function parseCli<O extends CliOptions>(spec: CliSpec<O>, argv: readonly string[]): ParsedCli<O> | 'help' {
  // `npm run x -- --flag` passes the flags on; a second `--` (as in `npm run x -- -- --flag`) would turn every
  // flag after it into a positional argument, so a leading one is dropped.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((argument) => HELP_FLAGS.includes(argument))) return 'help';
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, option]) => [name, option.type === 'string' ? { type: 'string' as const, multiple: option.multiple ?? false } : { type: 'boolean' as const }]),
  );
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: boolean; tokens: true }>>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: (spec.positionals?.max ?? 0) > 0, tokens: true });
  } catch (error) {
    throw new CliUsageError(describeParseError(error, spec));
  }
  // parseArgs keeps the last of a repeated option; `--seed 1 --seed 2` is more likely a slip than a choice.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new CliUsageError(`--${token.name} is given twice`);
    seen.add(token.name);
  }
  const { min = 0, max = 0, names = '' } = spec.positionals ?? {};
  if (parsed.positionals.length < min) throw new CliUsageError(`missing ${names}`);
  if (parsed.positionals.length > max) {
    throw new CliUsageError(`too many arguments: ${parsed.positionals.join(' ')} (expected ${max === 0 ? 'none' : names})`);
  }
  // parseArgs built the values from these very option types, so the shapes match CliValues<O>.
  return { values: parsed.values as CliValues<O>, positionals: parsed.positionals };
}

function describeParseError<O extends CliOptions>(error: unknown, spec: CliSpec<O>): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const known = Object.keys(spec.options).map((name) => `--${name}`);
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted} (${known.length > 0 ? `known: ${known.join(' ')}` : 'this command takes no options'})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('argument missing') ? `${quoted.replace(/ <value>$/, '')} needs a value` : `${quoted.split(' ')[0] ?? quoted} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted}${spec.positionals ? '' : ' (this command takes options only)'}`;
    default:
      return message;
  }
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => never;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  exit: (code) => process.exit(code),
};

/**
 * What local dev commands set in their environment (so the processes they start inherit it too). A value the
 * user set wins. Production code never calls this.
 */
export function useLocalDevEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  // The AWS SDK warns, on every client it builds, that its releases after January 2027 need Node 22. The images
  // and CI run Node 22; local machines may run Node 20.19+ (package.json engines), where the five-line warning is
  // noise on every command. This is the switch AWS documents for it (aws/aws-sdk-js-v3#7983).
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
}

/**
 * Where every local command starts: answers --help (usage on stdout, exit 0), refuses bad arguments and bad
 * option values (the problem and the usage on stderr, exit 2), and sets the environment defaults of local dev
 * commands. `read` turns the parsed arguments into the tool's options; its CliUsageErrors are usage errors too.
 */
export function startCli<O extends CliOptions, T>(
  spec: CliSpec<O>,
  read: (parsed: ParsedCli<O>) => T,
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = processIo,
): T {
  useLocalDevEnvironment();
  try {
    const parsed = parseCli(spec, argv);
    if (parsed === 'help') {
      io.stdout(formatUsage(spec));
      return io.exit(0);
    }
    return read(parsed);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr(`${spec.name}: ${error.message}\nusage: ${spec.synopsis}   (--help for more)\n`);
    return io.exit(2);
  }
}

/** A number option: `fallback` when absent; a clear CliUsageError when it is not a number within bounds. */
export function numberOption(
  text: string | undefined,
  flag: string,
  rule: { fallback: number; whole?: boolean; min?: number; above?: number; max?: number },
): number {
  if (text === undefined) return rule.fallback;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const bounds = [
    rule.min !== undefined ? `≥ ${rule.min}` : '',
    rule.above !== undefined ? `> ${rule.above}` : '',
    rule.max !== undefined ? `≤ ${rule.max}` : '',
  ].filter(Boolean);
  const ok =
    Number.isFinite(value) &&
    (!rule.whole || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new CliUsageError(`--${flag} must be ${rule.whole ? 'a whole number' : 'a number'}${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}, got ${JSON.stringify(text)}`);
  return value;
}

/** An ISO-8601 timestamp option; undefined when absent. */
export function dateOption(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const value = new Date(text);
  if (Number.isNaN(value.getTime())) throw new CliUsageError(`--${flag} must be an ISO-8601 timestamp, got ${JSON.stringify(text)}`);
  return value;
}
