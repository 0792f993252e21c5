import { chmod, chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentIsolationConfig } from '../../src/config/env.validators';
import { AgentSandbox } from '../../src/process/agent-sandbox';

/**
 * As root (CI, this machine) the agent really runs as this uid. One per jest worker: test files run in parallel,
 * and a worker's killAll ends every process of its agent uid, so two files sharing one would kill each other's agents.
 */
const agentUid = 10_000 + Number(process.env['JEST_WORKER_ID'] ?? '1');
export const AGENT_ISOLATION: AgentIsolationConfig = { mode: 'auto', uid: agentUid, gid: agentUid };

export const isRoot = process.getuid?.() === 0;

/**
 * A temp dir the agent's uid can pass through but not list (0711), as a work dir's parents must be; mkdtemp's
 * 0700 would shut the agent out of everything below.
 */
export async function agentReachableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o711);
  return dir;
}

export function testSandbox(isolation: AgentIsolationConfig = AGENT_ISOLATION): AgentSandbox {
  return new AgentSandbox({ agentIsolation: isolation });
}

/** An empty file the agent's uid may append to: where a stand-in agent (the fake codex) logs what it was given. */
export async function agentWritableFile(path: string, isolation: AgentIsolationConfig = AGENT_ISOLATION): Promise<string> {
  await writeFile(path, '');
  if (isRoot) await chown(path, isolation.uid, isolation.gid);
  return path;
}
