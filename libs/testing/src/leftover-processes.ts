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

/**
 * Several tests play a conductor that crashes, hands off or gives up on a worker, so by design nothing stops the
 * stand-in worker processes they launched. Kills every process whose WORK_DIR carries this run's tag.
 */
export function killLeftoverProcesses(): number {
  const tag = process.env[RUN_TAG_VARIABLE];
  if (!tag) return 0;
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    const workDir = environ.split('\0').find((variable) => variable.startsWith('WORK_DIR='));
    if (workDir?.includes(`-${tag}-`)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
        killed += 1;
      } catch {
        // Gone in the meantime.
      }
    }
  }
  return killed;
}
