import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import { ConductorClient } from '../conductor/conductor-client';
import { FileSystem } from '../fs/file-system';

/** The task archive is TASK.md + AGENTS.md; anything near this size is not a task. */
const MAX_TASK_ARCHIVE_BYTES = 64 * 1024 * 1024;

/** Downloads the task archive and unpacks TASK.md / AGENTS.md into the work dir. */
@Injectable()
export class TaskFilesService {
  private readonly logger = new Logger(TaskFilesService.name);

  constructor(
    private readonly conductor: ConductorClient,
    private readonly fs: FileSystem,
  ) {}

  async fetchInto(workDir: string, job: workerV1.HandshakeResponse): Promise<void> {
    const scratch = await this.fs.makeTempDir('agent-conductor-task-');
    try {
      const archivePath = join(scratch, 'task.tar.gz');
      const received = await this.conductor.downloadTaskFiles(archivePath, {
        size: job.taskArchiveSize,
        sha256: job.taskArchiveSha256,
        maxBytes: MAX_TASK_ARCHIVE_BYTES,
      });
      const extracted = await extractArchiveSafely(archivePath, workDir, { maxEntries: 1_000, maxBytes: MAX_TASK_ARCHIVE_BYTES });
      this.logger.log(`Task archive: ${received.bytes} bytes, ${extracted.entries} entries`);
      if (!(await this.fs.exists(join(workDir, 'TASK.md')))) {
        throw new Error('the task archive has no TASK.md');
      }
    } finally {
      await this.fs.remove(scratch);
    }
  }
}
