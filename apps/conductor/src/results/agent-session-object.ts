import { AGENT_SESSION_DIR, AGENT_SESSION_MAX_BYTES, AGENT_SESSION_MAX_ENTRIES, packSubdirectory } from '@agent-conductor/contracts';
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';


export type SessionObjectOutcome = 'packed' | 'over-bounds';

/**
 * Writes the session object of an upload proven safe and extracted into `extractedDir`: its `agent-session/` alone,
 * as a tar.gz the follow-up lookup reads instead of the whole archive (docs/context-reuse.md). A session over
 * AGENT_SESSION_MAX_ENTRIES / AGENT_SESSION_MAX_BYTES gets an empty object instead, which sends the lookup to the archive, so it
 * is refused there exactly as before; results without a session get an archive holding none.
 */
export async function writeSessionObject(extractedDir: string, objectPath: string): Promise<SessionObjectOutcome> {
  const totals = await treeTotals(join(extractedDir, AGENT_SESSION_DIR));
  if (totals.entries > AGENT_SESSION_MAX_ENTRIES || totals.bytes > AGENT_SESSION_MAX_BYTES) {
    await writeFile(objectPath, '', { flag: 'wx', mode: 0o600 });
    return 'over-bounds';
  }
  await packSubdirectory(extractedDir, AGENT_SESSION_DIR, objectPath);
  return 'packed';
}

/**
 * Entries and file bytes of a tree as the lookup's extraction counts them (the directory itself included); an
 * extraction holds only files and directories. Counting stops once past the bounds.
 */
async function treeTotals(root: string): Promise<{ entries: number; bytes: number }> {
  const totals = { entries: 0, bytes: 0 };
  const info = await lstat(root).catch(() => undefined);
  if (!info?.isDirectory()) return totals;
  const pending = [root];
  totals.entries = 1;
  while (pending.length > 0 && totals.entries <= AGENT_SESSION_MAX_ENTRIES && totals.bytes <= AGENT_SESSION_MAX_BYTES) {
    const dir = pending.pop() ?? root;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      totals.entries += 1;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else totals.bytes += (await lstat(path)).size;
    }
  }
  return totals;
}
