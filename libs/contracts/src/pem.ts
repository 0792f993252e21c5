import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * A PEM value (certificates, keys) from a variable that holds either the PEM
 * text itself or the path of a file holding it: ECS injects a Secrets Manager
 * value as the variable, a laptop points at files. Escaped `\n` sequences, as
 * some secret stores keep them, become newlines.
 */
export function readPemSetting(value: string, cwd: string = process.cwd()): Buffer {
  if (value.trimStart().startsWith('-----BEGIN ')) return Buffer.from(value.replace(/\\n/g, '\n'));
  return readFileSync(isAbsolute(value) ? value : resolve(cwd, value));
}

/** Why a PEM setting could not be read, naming the variable and path but never a PEM value. */
export function pemSettingProblem(name: string, error: unknown): string {
  const cause = error as NodeJS.ErrnoException;
  return `${name} cannot be read from ${cause.path ?? 'its file'} (${cause.code ?? 'error'})`;
}
