import { hashFile, packDirectory } from '@agent-conductor/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

export interface TaskFiles {
  taskMarkdown: string;
  agentsMarkdown: string;
  /** More files next to TASK.md (the incident evidence pack), by relative path. */
  extraFiles?: Array<{ path: string; content: string | Uint8Array }>;
}

/** Task archives on disk, one per worker, under <run dir>/tasks. */
@Injectable()
export class TaskArchiveStore {
  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  pathFor(workerId: string): string {
    return join(this.config.runDir, 'tasks', `${workerId}.tar.gz`);
  }

  async build(workerId: string, files: TaskFiles): Promise<{ path: string; bytes: number; sha256: string }> {
    const staging = join(this.config.runDir, 'tasks', `${workerId}.staging`);
    await rm(staging, { recursive: true, force: true });
    // Owner-only: an agent under another uid must not read other jobs' tasks.
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      await writeFile(join(staging, 'TASK.md'), files.taskMarkdown, { mode: 0o600 });
      await writeFile(join(staging, 'AGENTS.md'), files.agentsMarkdown, { mode: 0o600 });
      for (const extra of files.extraFiles ?? []) {
        const relative = normalize(extra.path);
        if (relative.startsWith('..') || relative.startsWith('/')) throw new Error(`task file path ${JSON.stringify(extra.path)} leaves the task directory`);
        await mkdir(dirname(join(staging, relative)), { recursive: true, mode: 0o700 });
        await writeFile(join(staging, relative), extra.content, { mode: 0o600 });
      }
      const path = this.pathFor(workerId);
      const { bytes, sha256 } = await packDirectory(staging, path);
      return { path, bytes, sha256 };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Hashes what is on disk, so the handshake announces exactly what the download will send. */
  describe(workerId: string): Promise<{ bytes: number; sha256: string }> {
    return hashFile(this.pathFor(workerId));
  }
}
