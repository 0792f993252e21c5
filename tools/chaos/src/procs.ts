/**
 * Finding this run's processes through /proc. Workers are started by the
 * conductor, which may have been killed since, so the harness cannot rely on
 * its own child handles: a worker is recognised by its command line and by its
 * WORK_DIR lying under this run's worker root (the run's marker).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';

export interface ProcessInfo {
  pid: number;
  cmdline: string[];
  env: Map<string, string>;
  cwd: string | undefined;
}

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may hold spaces).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part.length > 0);
    const env = new Map<string, string>();
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    let cwd: string | undefined;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      cwd = undefined;
    }
    return { pid, cmdline, env, cwd };
  } catch {
    // Gone between readdir and read, or not ours to read.
    return undefined;
  }
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const info = readProcess(pid);
    if (info) out.push(info);
  }
  return out;
}

function under(path: string | undefined, root: string): boolean {
  return path !== undefined && (path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
}

export interface WorkerProcess {
  pid: number;
  workerId: string | undefined;
}

/** Live worker processes of this run (the worker's main.js with WORK_DIR under `workRoot`). */
export function findWorkers(workRoot: string, workerMain: string): WorkerProcess[] {
  return listProcesses()
    .filter((p) => p.cmdline.some((arg) => arg === workerMain || arg.endsWith('dist/apps/worker/main.js')) && under(p.env.get('WORK_DIR'), workRoot))
    .map((p) => ({ pid: p.pid, workerId: p.env.get('WORKER_ID') }));
}

/**
 * Every process this run's workers left behind: the workers and whatever runs
 * in their work directories (agent scripts, git).
 */
export function findRunDescendants(workRoot: string): number[] {
  return listProcesses()
    .filter((p) => under(p.env.get('WORK_DIR'), workRoot) || under(p.cwd, workRoot))
    .map((p) => p.pid);
}

export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
