/** `--name value` flags; a tool's own small parser so that scripts stay dependency-free. */
export function parseFlags(argv: string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  const args = argv.filter((argument) => argument !== '--');
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index] ?? '';
    const name = argument.replace(/^--/, '');
    if (!argument.startsWith('--') || !known.includes(name)) {
      throw new Error(`unknown argument ${argument} (known: ${known.map((flag) => `--${flag}`).join(' ')})`);
    }
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${argument} needs a value`);
    flags.set(name, value);
    index += 1;
  }
  return flags;
}

export function numberFlag(flags: Map<string, string>, name: string, fallback: number, check: (value: number) => boolean = () => true): number {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) throw new Error(`--${name} ${text} is not a valid value`);
  return value;
}

export function dateFlag(flags: Map<string, string>, name: string): Date | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const value = new Date(text);
  if (Number.isNaN(value.getTime())) throw new Error(`--${name} ${text} is not an ISO-8601 timestamp`);
  return value;
}
