import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/*
 * docs/configuration.md's tables, read back so that each app's spec can hold them against its env validator:
 * every variable the validator knows is documented, every documented variable exists, and a default the table
 * states is the validator's default.
 */

export const CONFIGURATION_DOC = resolve(__dirname, '../../..', 'docs/configuration.md');

export interface DocumentedVariable {
  app: string;
  name: string;
  /** The default cell for this variable (its share of it, when a row lists several variables). */
  defaultText: string;
  line: number;
}

/** The field of a zod object schema, as far as this check needs it. */
export interface EnvField {
  safeParse(value: unknown): { success: boolean; data?: unknown };
}

const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

/** Splits `a, b, c` at top-level commas: a comma inside a code span belongs to it. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inCode = false;
  for (const char of text) {
    if (char === '`') inCode = !inCode;
    if (char === ',' && !inCode) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  return parts;
}

/**
 * The variables of every table with a `variable` and a `default` column. The app is the table's `app` column,
 * or else the `###` heading above the table.
 */
export function documentedVariables(markdown: string): DocumentedVariable[] {
  const found: DocumentedVariable[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  let header: string[] | undefined;
  lines.forEach((text, index) => {
    if (text.startsWith('### ')) heading = text.slice(4).trim().toLowerCase();
    if (!text.trim().startsWith('|')) {
      header = undefined;
      return;
    }
    const row = cells(text);
    if (!header) {
      header = row.map((cell) => cell.toLowerCase());
      return;
    }
    if (row.every((cell) => /^:?-+:?$/.test(cell))) return;
    const column = (name: string): string => row[header?.indexOf(name) ?? -1] ?? '';
    if (!header.includes('variable') || !header.includes('default')) return;
    const app = header.includes('app') ? column('app').toLowerCase() : heading;
    const names = splitList(column('variable'))
      // `NAME=value` mentions a value of a variable documented in its own row.
      .map((part) => /^`([^`=]+)`$/.exec(part)?.[1] ?? '')
      .filter((name) => VARIABLE.test(name));
    const defaults = splitList(column('default'));
    names.forEach((name, position) => {
      const defaultText = (defaults.length === names.length ? defaults[position] : column('default')) ?? '';
      found.push({ app, name, defaultText, line: index + 1 });
    });
  });
  return found;
}

const BYTE_UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const MS_UNITS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000 };

/**
 * The default a cell states, or undefined when it states none: a single code span (`8080`), or an amount
 * with a unit (512 MiB, 10 min for a *_MS variable). Anything else (–, unset, "dev stack's Postgres",
 * "3 × heartbeat interval", a code span with a <placeholder>) says the validator has no default of its own.
 */
export function statedDefault(name: string, text: string): string | undefined {
  const literal = /^`([^`]*)`$/.exec(text)?.[1];
  if (literal !== undefined) return literal.includes('<') ? undefined : literal;
  const amount = /^(\d+(?:\.\d+)?) (KiB|MiB|GiB|s|min|h)$/.exec(text);
  if (!amount) return undefined;
  const [, value = '', unit = ''] = amount;
  const factor = BYTE_UNITS[unit] ?? (name.endsWith('_MS') ? MS_UNITS[unit] : undefined);
  return factor === undefined ? undefined : String(Number(value) * factor);
}

/** What an unset variable becomes: the validator's default, or undefined (optional, or required). */
function schemaDefault(field: EnvField): unknown {
  const parsed = field.safeParse(undefined);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The drift between docs/configuration.md and one app's validator, as readable lines; [] when they agree.
 * `elsewhere` names variables the app reads outside the validator, with what unset gives.
 */
export function configurationDocProblems(
  app: string,
  shape: Record<string, EnvField>,
  elsewhere: Record<string, unknown> = {},
  markdown: string = readFileSync(CONFIGURATION_DOC, 'utf8'),
): string[] {
  const documented = documentedVariables(markdown).filter((variable) => variable.app === app);
  const known = new Map<string, unknown>([...Object.entries(shape).map(([name, field]) => [name, schemaDefault(field)] as const), ...Object.entries(elsewhere)]);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { name, defaultText, line } of documented) {
    if (seen.has(name)) problems.push(`docs/configuration.md:${line}: ${name} is documented twice for the ${app}`);
    seen.add(name);
    if (!known.has(name)) {
      problems.push(`docs/configuration.md:${line}: ${name} is documented for the ${app}, but the ${app} does not read it`);
      continue;
    }
    const actual = known.get(name);
    const stated = statedDefault(name, defaultText);
    const actualText = actual === undefined ? undefined : String(actual);
    if (stated !== actualText) {
      problems.push(
        `docs/configuration.md:${line}: ${name} defaults to ${actualText === undefined ? 'nothing of its own' : JSON.stringify(actualText)} in the ${app}, the table says ${JSON.stringify(defaultText)}`,
      );
    }
  }
  for (const name of known.keys()) {
    if (!seen.has(name)) problems.push(`${name} is read by the ${app} but missing from docs/configuration.md`);
  }
  return problems;
}
