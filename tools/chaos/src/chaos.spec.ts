import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listProcesses } from './procs';
import type { ChaosResult } from './harness';

const WORKSPACE = resolve(__dirname, '../../..');

interface HarnessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runHarness(args: string[], timeoutMs: number): Promise<HarnessRun> {
  return new Promise((resolveRun, reject) => {
    const env = { ...process.env };
    delete env['DATABASE_URL'];
    const child = spawn(process.execPath, [join(WORKSPACE, 'node_modules/tsx/dist/cli.mjs'), join(WORKSPACE, 'tools/chaos/src/main.ts'), ...args], {
      cwd: WORKSPACE,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Interrupting (not killing) lets the harness clean up after itself.
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

describe('chaos harness, CI size (real processes: SQS endpoint, Postgres restart, kill -9 of conductor and scheduler)', () => {
  let run: HarnessRun;
  let result: ChaosResult;
  let runDir: string | undefined;

  beforeAll(async () => {
    run = await runHarness(['--messages', '20', '--kills', '2', '--seed', '7', '--window-seconds', '10', '--settle-timeout-seconds', '75'], 170_000);
    process.stdout.write(run.stdout.split('\n').filter((line) => line.startsWith('[chaos]') || line.startsWith('{')).join('\n') + '\n');
    const lines = run.stdout.trimEnd().split('\n');
    result = JSON.parse(lines[lines.length - 1] ?? '') as ChaosResult;
    runDir = /run directory (\S+)/.exec(run.stdout)?.[1];
  }, 180_000);

  it('completes and prints the figures as its last line', () => {
    expect(run.code).toBe(0);
    expect(Object.keys(result)).toEqual(['messages', 'kills', 'expectedJobs', 'jobs', 'duplicateJobs', 'lostMessages', 'orphanedWorkers', 'unfinishedJobs', 'capViolations']);
    expect(result).toMatchObject({ messages: 20, kills: 2 });
    expect(result.expectedJobs).toBeGreaterThan(0);
  });

  it('leaves no process and no run directory behind', () => {
    expect(runDir).toBeDefined();
    const root = runDir ?? 'missing';
    expect(existsSync(root)).toBe(false);
    const leftovers = listProcesses().filter((p) => p.cmdline.some((arg) => arg.includes(root)) || (p.cwd ?? '').startsWith(root) || [...p.env.values()].some((value) => value.includes(root)));
    expect(leftovers.map((p) => `${p.pid} ${p.cmdline.join(' ')}`)).toEqual([]);
  });

  it('meets the durability targets: one job per ticket key and incident, nothing lost, orphaned or unfinished, no cap exceeded', () => {
    expect({
      jobs: result.jobs,
      duplicateJobs: result.duplicateJobs,
      lostMessages: result.lostMessages,
      orphanedWorkers: result.orphanedWorkers,
      unfinishedJobs: result.unfinishedJobs,
      capViolations: result.capViolations,
    }).toEqual({ jobs: result.expectedJobs, duplicateJobs: 0, lostMessages: 0, orphanedWorkers: 0, unfinishedJobs: 0, capViolations: 0 });
  });
});
