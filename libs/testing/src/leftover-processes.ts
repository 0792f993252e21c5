import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const RUN_TAG_VARIABLE = 'AGENT_CONDUCTOR_TEST_RUN';

/** Set once per jest run by the global setup; workers inherit it. */
export function startTestRun(): void {
  process.env[RUN_TAG_VARIABLE] = `run-${randomBytes(6).toString('hex')}`;
}

/**
 * A prefix for temp dirs whose processes belong to this run. Tests that launch workers put their work dirs under
 * such a dir so the global teardown can find what they left running.
 */
export function testRunPrefix(name: string): string {
  return `${name}-${process.env[RUN_TAG_VARIABLE] ?? 'adhoc'}-`;
}

export interface TaggedProcess {
  pid: number;
  command: string;
}

/**
 * Live processes (not zombies: their environment reads empty) whose environment has a variable for which `matches`
 * holds. Environments are inherited, so a tag set on a command finds everything it started, whatever process group
 * or parent each ended up in. Linux only (/proc).
 */
export function processesWithEnvironment(matches: (variable: string) => boolean): TaggedProcess[] {
  const found: TaggedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').some(matches)) continue;
      found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // Gone in the meantime, or not ours to read.
    }
  }
  return found;
}

/**
 * Several tests play a conductor that crashes, hands off or gives up on a worker, so by design nothing stops the
 * stand-in worker processes they launched. Kills every process whose WORK_DIR carries this run's tag.
 */
export function killLeftoverProcesses(): number {
  const tag = process.env[RUN_TAG_VARIABLE];
  if (!tag) return 0;
  let killed = 0;
  for (const { pid } of processesWithEnvironment((variable) => variable.startsWith('WORK_DIR=') && variable.includes(`-${tag}-`))) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Gone in the meantime.
    }
  }
  return killed;
}
