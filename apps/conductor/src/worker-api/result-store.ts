import { extractArchiveSafely } from '@agent-conductor/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

/** Result archives: received into RESULTS_DIR/.incoming, extracted to RESULTS_DIR/<jobId>/<workerId>/. */
@Injectable()
export class ResultStore {
  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  private get incomingDir(): string {
    return join(this.config.resultsDir, '.incoming');
  }

  async newIncomingPath(workerId: string): Promise<string> {
    await mkdir(this.incomingDir, { recursive: true });
    return join(this.incomingDir, `${workerId}-${randomUUID()}.tar.gz`);
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /**
   * Extracts into a staging directory and renames it into place, so the final
   * directory only ever holds a complete, checked archive; a second upload
   * replaces the first.
   */
  async extract(archivePath: string, jobId: string, workerId: string): Promise<string> {
    const staging = join(this.incomingDir, `${workerId}-${randomUUID()}.d`);
    const finalDir = join(this.config.resultsDir, jobId, workerId);
    try {
      // Bounds what a small, highly compressed archive may expand to.
      await extractArchiveSafely(archivePath, staging, { maxBytes: this.config.maxUploadBytes * 4 });
      await mkdir(join(this.config.resultsDir, jobId), { recursive: true });
      await rm(finalDir, { recursive: true, force: true });
      await rename(staging, finalDir);
      return finalDir;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
