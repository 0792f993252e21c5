import { REDACTED } from '@agent-conductor/contracts';
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** Files larger than this are left alone: a secret the agent copied lands in a report or a note, not a big blob. */
const MAX_SCANNED_BYTES = 16 * 1024 * 1024;

/**
 * Replaces every occurrence of `secrets` in the regular files below `dir` (not following links, skipping what
 * `exclude` names) before the work dir is uploaded; returns the files changed. Byte for byte (latin1), so binary
 * files survive. A changed file is written anew and renamed over the old name, so a hard link the agent made to a
 * file elsewhere is replaced, never written through. Run only once every agent process has ended.
 */
export async function redactFilesIn(dir: string, secrets: readonly string[], exclude: (relativePath: string) => boolean, prefix = ''): Promise<string[]> {
  const needles = secrets.filter((secret) => secret.length > 0);
  if (needles.length === 0) return [];
  const changed: string[] = [];
  for (const name of await readdir(join(dir, prefix))) {
    const relativePath = prefix === '' ? name : `${prefix}/${name}`;
    if (exclude(relativePath)) continue;
    const path = join(dir, relativePath);
    const stat = await lstat(path);
    if (stat.isDirectory()) {
      changed.push(...(await redactFilesIn(dir, needles, exclude, relativePath)));
      continue;
    }
    if (!stat.isFile() || stat.size > MAX_SCANNED_BYTES) continue;
    const text = (await readFile(path)).toString('latin1');
    if (!needles.some((needle) => text.includes(needle))) continue;
    const redacted = needles.reduce((current, needle) => current.split(needle).join(REDACTED), text);
    const temporary = join(dir, prefix, `.redacted-${randomBytes(8).toString('hex')}`);
    const handle = await open(temporary, 'wx', stat.mode & 0o777);
    try {
      await handle.writeFile(Buffer.from(redacted, 'latin1'));
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    changed.push(relativePath);
  }
  return changed;
}
