import { extractArchiveSafely } from '@agent-conductor/contracts';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

/**
 * An upload untouched for this long belongs to no live transfer: a receiving
 * conductor writes as chunks arrive. Another conductor sharing RESULTS_DIR
 * (a handoff) keeps its fresh files.
 */
export const STALE_INCOMING_MS = 10 * 60_000;

/** Result archives: received into RESULTS_DIR/.incoming, extracted to RESULTS_DIR/<jobId>/<workerId>/. */
@Injectable()
export class ResultStore implements OnModuleInit {
  private readonly logger = new Logger(ResultStore.name);

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  /**
   * A conductor that died mid-upload left a partial archive behind; the
   * worker sends the whole archive again (a new UploadResults from the first
   * chunk), so the partial file is only litter.
   */
  async onModuleInit(): Promise<void> {
    const removed = await this.removeStaleIncoming(Date.now() - STALE_INCOMING_MS);
    if (removed > 0) this.logger.warn(`removed ${removed} partial upload(s) left by an interrupted transfer`);
  }

  async removeStaleIncoming(olderThanMs: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.incomingDir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(this.incomingDir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info || info.mtimeMs >= olderThanMs) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

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
   * replaces the first. `beforeReplace` runs between the two and may veto the
   * swap by throwing.
   */
  async extract(archivePath: string, jobId: string, workerId: string, beforeReplace?: () => Promise<void>): Promise<string> {
    const staging = join(this.incomingDir, `${workerId}-${randomUUID()}.d`);
    const finalDir = join(this.config.resultsDir, jobId, workerId);
    try {
      // Bounds what a small, highly compressed archive may expand to.
      await extractArchiveSafely(archivePath, staging, { maxBytes: this.config.maxUploadBytes * 4 });
      await beforeReplace?.();
      await mkdir(join(this.config.resultsDir, jobId), { recursive: true });
      await rm(finalDir, { recursive: true, force: true });
      await rename(staging, finalDir);
      return finalDir;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
