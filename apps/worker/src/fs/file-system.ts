import { Injectable } from '@nestjs/common';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The worker's file-system access, in one place so that stages stay free of direct fs calls. */
@Injectable()
export class FileSystem {
  async readTextIfExists(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
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

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === 'ENOENT';
}
