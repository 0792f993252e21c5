import { packDirectory } from '@agent-conductor/contracts';
import { status } from '@grpc/grpc-js';
import { dirname, basename, join } from 'node:path';
import { z } from 'zod';

/** The exit status of a worker that gave up on its conductor; non-zero so the platform records a failure. */
export const CONDUCTOR_LOST_EXIT_CODE = 3;

export const CONDUCTOR_LOST_HANDLER = Symbol('CONDUCTOR_LOST_HANDLER');

/** What the worker does once it has given up on the conductor; the default exits the process. */
export type ConductorLostHandler = (reason: string) => void;

const lostExitMs = z.coerce.number().int().positive().default(10 * 60_000);

/**
 * CONDUCTOR_LOST_EXIT_MS: how long a worker goes on without any answer from
 * the conductor before it saves what it can and exits. Longer than a conductor
 * deploy in handoff mode (the old one exits, the new one starts), shorter than
 * an orphan should live. Read here so the heartbeat module owns its one setting.
 */
export function conductorLostExitMsFromEnv(env: NodeJS.ProcessEnv): number {
  const parsed = lostExitMs.safeParse(env['CONDUCTOR_LOST_EXIT_MS'] === '' ? undefined : env['CONDUCTOR_LOST_EXIT_MS']);
  if (!parsed.success) throw new Error(`Invalid worker environment:\n  - CONDUCTOR_LOST_EXIT_MS must be a positive integer (milliseconds)`);
  return parsed.data;
}

/** The conductor answered that this worker no longer exists for it (ended by an orphan check, or unknown). */
export function conductorDisowned(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  return code === status.FAILED_PRECONDITION || code === status.UNAUTHENTICATED;
}

/**
 * Best effort: the work directory packed next to it on the worker's own disk
 * (a local worker's run dir, or the container's disk and log on ECS), so an
 * operator can still look at what the agent did. Never throws.
 */
export async function salvageWorkDir(workDir: string): Promise<string | undefined> {
  const target = join(dirname(workDir), `${basename(workDir)}.salvage-${Date.now()}.tar.gz`);
  try {
    await packDirectory(workDir, target);
    return target;
  } catch {
    return undefined;
  }
}
