import { Injectable } from '@nestjs/common';
import { constants } from 'node:fs';
import { lchown, lstat, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The largest agent-written files the worker reads: far above any honest report, far below a memory problem. */
export const AGENT_REPORT_MAX_BYTES = 1024 * 1024;
export const AGENT_TRANSCRIPT_MAX_BYTES = 2 * 1024 * 1024;

/** An agent-written file the worker refuses to read, with a reason worded for the agent. */
export class AgentFileError extends Error {
  constructor(
    readonly relativePath: string,
    readonly reason: string,
  ) {
    super(`${relativePath} ${reason}`);
    this.name = 'AgentFileError';
  }
}

/** The worker's file-system access, in one place so that stages stay free of direct fs calls. */
@Injectable()
export class FileSystem {
  /**
   * Reads a file the agent wrote, below root, as an untrusted artifact: no path component may be a symlink
   * (each directory is checked with lstat, the file is opened with O_NOFOLLOW), the file must be a regular file
   * (a FIFO would block, /dev/zero never end) and at most maxBytes long. A symlink to /proc/<worker>/environ or to
   * a secret file would otherwise be read with the worker's rights and published. undefined: the file is missing.
   * Callers read after the agent's processes are gone, so nothing swaps a component between check and open.
   */
  async readAgentText(root: string, relativePath: string, maxBytes: number): Promise<string | undefined> {
    const parts = relativePath.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.length === 0 || parts.includes('..')) throw new AgentFileError(relativePath, 'is not a path below the work directory');
    let dir = root;
    for (let index = 0; index < parts.length - 1; index++) {
      dir = join(dir, parts[index] ?? '');
      const stat = await lstatIfExists(dir);
      if (stat === undefined) return undefined;
      if (stat.isSymbolicLink()) throw new AgentFileError(relativePath, `is below a symbolic link (${parts.slice(0, index + 1).join('/')}); use real directories and files`);
      if (!stat.isDirectory()) return undefined;
    }
    let handle;
    try {
      handle = await open(join(dir, parts[parts.length - 1] ?? ''), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (hasCode(error, 'ELOOP')) throw new AgentFileError(relativePath, 'is a symbolic link; write a regular file');
      throw error;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new AgentFileError(relativePath, 'is not a regular file');
      if (stat.size > maxBytes) throw new AgentFileError(relativePath, `is ${stat.size} bytes, over the limit of ${maxBytes}`);
      const buffer = Buffer.alloc(maxBytes + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
        // It grew while being read.
        if (length > maxBytes) throw new AgentFileError(relativePath, `is over the limit of ${maxBytes} bytes`);
      }
      return buffer.subarray(0, length).toString('utf8');
    } finally {
      await handle.close();
    }
  }

  async readTextIfExists(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Writes a file below root, a directory the agent owns, without following a symlink the agent planted there:
   * every directory on the way must be a real one (missing ones are created), the file is opened with
   * O_NOFOLLOW. Root writing through a link to /etc would otherwise overwrite what the link names. What it
   * creates belongs to root's owner (the agent, once the work dir is handed over), so the agent can go on using it.
   */
  async writeAgentText(root: string, relativePath: string, content: string): Promise<void> {
    const parts = relativePath.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.length === 0 || parts.includes('..')) throw new AgentFileError(relativePath, 'is not a path below the work directory');
    const owner = await lstat(root);
    const giveAway = owner.uid !== process.getuid?.();
    let dir = root;
    for (let index = 0; index < parts.length - 1; index++) {
      dir = join(dir, parts[index] ?? '');
      const stat = await lstatIfExists(dir);
      if (stat === undefined) {
        await mkdir(dir);
        if (giveAway) await lchown(dir, owner.uid, owner.gid);
        continue;
      }
      if (!stat.isDirectory()) throw new AgentFileError(relativePath, `cannot be written: ${parts.slice(0, index + 1).join('/')} is not a real directory`);
    }
    const handle = await open(join(dir, parts[parts.length - 1] ?? ''), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644).catch((error: unknown) => {
      if (hasCode(error, 'ELOOP')) throw new AgentFileError(relativePath, 'cannot be written: it is a symbolic link');
      throw error;
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new AgentFileError(relativePath, 'cannot be written: it is not a regular file');
      if (giveAway) await handle.chown(owner.uid, owner.gid);
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
  }

  async writeText(path: string, content: string): Promise<void> {
    await writeFile(path, content, { mode: 0o644 });
  }

  async ensureDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async isDirectory(path: string): Promise<boolean> {
    try {
      return (await lstat(path)).isDirectory();
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Relative paths of every entry named `name` below `root`, not descending into `skip` (relative to root). */
  async findNamed(root: string, name: string, skip: string[] = []): Promise<string[]> {
    const found: string[] = [];
    const walk = async (relativeDir: string): Promise<void> => {
      const entries = await readdir(join(root, relativeDir), { withFileTypes: true });
      for (const entry of entries) {
        const relativePath = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
        if (skip.includes(relativePath)) continue;
        if (entry.name === name) found.push(relativePath);
        if (entry.isDirectory()) await walk(relativePath);
      }
    };
    await walk('');
    return found.sort();
  }

  async makeTempDir(prefix: string): Promise<string> {
    return mkdtemp(join(tmpdir(), prefix));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }
}

async function lstatIfExists(path: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return hasCode(error, 'ENOENT');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === code;
}
