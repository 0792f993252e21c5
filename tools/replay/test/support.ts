import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseScenarioLine, ScenarioMessage } from '../src/scenario';

export const WORKSPACE = resolve(__dirname, '../../..');
export const SCENARIOS = resolve(WORKSPACE, 'tools/scenarios');
const TSX = resolve(WORKSPACE, 'node_modules/.bin/tsx');

export function runDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: the global setup did not run');
  return url;
}

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the tools as a real child process, the way `npm run` does. */
export function runTool(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<ToolRun> {
  return new Promise((resolveRun) => {
    execFile(
      TSX,
      [resolve(WORKSPACE, script), ...args],
      { cwd: WORKSPACE, env: { ...process.env, DATABASE_URL: runDatabaseUrl(), ...env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

export function runReplay(file: string, ...args: string[]): Promise<ToolRun> {
  return runTool('tools/replay/src/main.ts', [file, ...args]);
}

export interface PrintedDecision {
  line: number;
  kind: 'ticket' | 'incident' | 'follow-up';
  key: string;
  jobId: string;
  followUpOf?: string;
  incidentId?: string;
  alarmName?: string;
  /** --simulate only. */
  repository?: string;
  startAt?: string | null;
  /** An incident attached to another account's pending job (incident groups): not a new job. */
  attached?: true;
}

const DECISION_KEYS = new Set(['line', 'kind', 'key', 'jobId', 'incidentId', 'alarmName', 'attached', 'followUpOf']);
const SIMULATED_KEYS = new Set([...DECISION_KEYS, 'repository', 'startAt']);

/**
 * Parses replay's stdout, failing on anything that is not a decision object: without --simulate exactly the keys
 * replay always printed, with it also `repository` and `startAt` on every line.
 */
export function decisionsOf(stdout: string, mode: 'plain' | 'simulated' = 'plain'): PrintedDecision[] {
  const keys = mode === 'simulated' ? SIMULATED_KEYS : DECISION_KEYS;
  const lines = stdout.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((text) => {
    const value = JSON.parse(text) as Record<string, unknown>;
    for (const key of Object.keys(value)) expect(keys.has(key) ? key : `unexpected key ${key}`).toBe(key);
    if (mode === 'simulated') {
      expect(typeof value['repository']).toBe('string');
      expect(typeof value['startAt'] === 'string' || value['startAt'] === null).toBe(true);
    }
    expect(typeof value['line']).toBe('number');
    expect(['ticket', 'incident', 'follow-up']).toContain(value['kind']);
    expect(typeof value['key']).toBe('string');
    expect(typeof value['jobId']).toBe('string');
    return value as unknown as PrintedDecision;
  });
}

/** The comparable part of a decision: ids are random per run. */
export function shapeOf(decision: PrintedDecision): { line: number; kind: string; key: string; alarmName?: string } {
  const { line, kind, key, alarmName } = decision;
  return alarmName === undefined ? { line, kind, key } : { line, kind, key, alarmName };
}

/** The scenario's lines: each message, or null for a line that is not one (a job end, a malformed line). */
export function readScenario(file: string): Array<ScenarioMessage | null> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((text, index, all) => index < all.length - 1 || text !== '')
    .map((text) => {
      const parsed = parseScenarioLine(text);
      return parsed.kind === 'message' ? parsed.message : null;
    });
}
