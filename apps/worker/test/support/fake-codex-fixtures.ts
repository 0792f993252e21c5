import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The fake `codex` executable (see its header for the scenarios). */
export const FAKE_CODEX = resolve(__dirname, 'fake-codex.mjs');

export interface FakeCodexInvocation {
  pid: number;
  argv: string[];
  cwd: string;
}

/** What each run of the fake received, in order (FAKE_CODEX_LOG). */
export function fakeCodexInvocations(logFile: string): FakeCodexInvocation[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FakeCodexInvocation);
}

/** Every regular file below dir (git internals included) whose bytes contain needle, relative to dir. */
export function filesContaining(dir: string, needle: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relativePath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return filesContaining(dir, needle, relativePath);
    return entry.isFile() && readFileSync(join(dir, relativePath)).includes(needle) ? [relativePath] : [];
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
