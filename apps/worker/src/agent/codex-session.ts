import { AGENT_SESSION_DIR } from '@agent-conductor/contracts';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSystem } from '../fs/file-system';

export { AGENT_SESSION_DIR };
export const THREAD_FILE = 'thread.json';
export const DEFAULT_AGENT_SESSION_MAX_BYTES = 16 * 1024 * 1024;

/** What thread.json says: which thread the files belong to, and when they were saved (the conductor's age limit counts from it). */
export interface SavedThread {
  threadId: string;
  savedAt: string;
  codexVersion: string | null;
}

export type SessionSave = { saved: true; files: number; bytes: number } | { saved: false; reason: string };

/** Codex names every thread's rollout `rollout-<timestamp>-<threadId>.jsonl` under `$CODEX_HOME/sessions/YYYY/MM/DD/`. */
const ROLLOUT_NAME = /^rollout-[0-9T:.-]+-([0-9a-f-]{36})\.jsonl$/;
/** Thread ids are UUIDs; anything else never reaches a file name or codex's argv. */
const THREAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** sessions/YYYY/MM/DD/<rollout>: the only shape restored, so a crafted archive cannot write elsewhere in CODEX_HOME. */
const SESSION_PATH = /^sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-[0-9T:.-]+-[0-9a-f-]{36}\.jsonl$/;

export function isThreadId(value: string): boolean {
  return THREAD_ID.test(value);
}

/** The thread's rollout files, relative to codexHome ('/'-separated), found by the thread id in their names. */
async function rolloutsOf(codexHome: string, threadId: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relativeDir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(codexHome, relativeDir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const relativePath = `${relativeDir}/${entry.name}`;
      if (entry.isDirectory() && depth < 3) await walk(relativePath, depth + 1);
      else if (entry.isFile() && depth === 3 && ROLLOUT_NAME.exec(entry.name)?.[1] === threadId) found.push(relativePath);
    }
  };
  await walk('sessions', 0);
  return found.sort();
}

/**
 * Copies the thread's session files from codexHome into `<workDir>/agent-session/`, redacted, with thread.json. Runs
 * once the agent's processes are gone: codexHome is the agent's, and nothing may rewrite it while it is read.
 */
export async function saveCodexSession(
  fs: FileSystem,
  input: { codexHome: string; workDir: string; threadId: string; redact: (text: string) => string; maxBytes: number; now?: Date },
): Promise<SessionSave> {
  // Whatever the agent left under agent-session/ must not pass for the worker's copy of its thread.
  await fs.remove(join(input.workDir, AGENT_SESSION_DIR));
  if (!isThreadId(input.threadId)) return { saved: false, reason: `thread id ${JSON.stringify(input.threadId)} is not a UUID` };
  const rollouts = await rolloutsOf(input.codexHome, input.threadId);
  if (rollouts.length === 0) return { saved: false, reason: `codex wrote no session file for thread ${input.threadId}` };
  let bytes = 0;
  for (const relativePath of rollouts) {
    const info = await lstat(join(input.codexHome, relativePath));
    bytes += info.size;
    if (bytes > input.maxBytes) return { saved: false, reason: `the session is over AGENT_SESSION_MAX_BYTES (${input.maxBytes} bytes)` };
  }
  let codexVersion: string | null = null;
  for (const relativePath of rollouts) {
    const text = await readFile(join(input.codexHome, relativePath), 'utf8');
    codexVersion ??= cliVersion(text);
    await fs.writeAgentText(input.workDir, `${AGENT_SESSION_DIR}/${relativePath}`, input.redact(text));
  }
  const thread: SavedThread = { threadId: input.threadId, savedAt: (input.now ?? new Date()).toISOString(), codexVersion };
  await fs.writeAgentText(input.workDir, `${AGENT_SESSION_DIR}/${THREAD_FILE}`, `${JSON.stringify(thread, null, 2)}\n`);
  return { saved: true, files: rollouts.length, bytes };
}

/** The first line of a rollout is codex's session_meta, which names the CLI version that wrote it. */
function cliVersion(rollout: string): string | null {
  const end = rollout.indexOf('\n');
  const firstLine = end === -1 ? rollout : rollout.slice(0, end);
  try {
    const meta: unknown = JSON.parse(firstLine);
    if (typeof meta !== 'object' || meta === null || !('payload' in meta)) return null;
    const payload: unknown = meta.payload;
    if (typeof payload !== 'object' || payload === null || !('cli_version' in payload)) return null;
    return typeof payload.cli_version === 'string' ? payload.cli_version : null;
  } catch {
    return null;
  }
}

export type SessionRestore = { restored: true; files: number } | { restored: false; reason: string };

/**
 * Moves the earlier thread's session files from `<workDir>/agent-session/` (the task archive put them there) into the
 * new CODEX_HOME, before codex starts, so that `codex exec resume <threadId>` finds them. The directory is removed from
 * the work dir either way: it is not the agent's to read or to upload again. The files are read as untrusted input.
 */
export async function restoreCodexSession(
  fs: FileSystem,
  input: { workDir: string; codexHome: string; threadId: string; maxBytes: number },
): Promise<SessionRestore> {
  const sessionDir = join(input.workDir, AGENT_SESSION_DIR);
  try {
    if (!isThreadId(input.threadId)) return { restored: false, reason: `thread id ${JSON.stringify(input.threadId)} is not a UUID` };
    if (!(await fs.isDirectory(sessionDir))) return { restored: false, reason: `the task archive has no ${AGENT_SESSION_DIR}/` };
    const rollouts = (await rolloutsOf(sessionDir, input.threadId)).filter((path) => SESSION_PATH.test(path));
    if (rollouts.length === 0) return { restored: false, reason: `${AGENT_SESSION_DIR}/ holds no session file of thread ${input.threadId}` };
    let bytes = 0;
    for (const relativePath of rollouts) {
      const text = await fs.readAgentText(sessionDir, relativePath, input.maxBytes);
      if (text === undefined) continue;
      bytes += Buffer.byteLength(text);
      if (bytes > input.maxBytes) return { restored: false, reason: `the session is over AGENT_SESSION_MAX_BYTES (${input.maxBytes} bytes)` };
      await fs.writeAgentText(input.codexHome, relativePath, text);
    }
    return { restored: true, files: rollouts.length };
  } finally {
    await fs.remove(sessionDir);
  }
}
