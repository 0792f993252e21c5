import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, statfs, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { extractOffLoop } from './off-loop-extraction';

/**
 * An upload untouched for this long belongs to no live transfer: a receiving
 * conductor writes as chunks arrive. Another conductor sharing RESULTS_DIR
 * (a handoff) keeps its fresh files.
 */
export const STALE_INCOMING_MS = 10 * 60_000;

/** How much an upload may expand when extracted, relative to MAX_UPLOAD_BYTES. */
export const EXTRACTION_EXPANSION = 4;

/** Only the conductor's uid may enter: an agent under another uid must not read other jobs' results. */
export const OWNER_ONLY_DIR = 0o700;

type UploadedResultsConfig = Pick<ConductorConfig, 'resultsDir' | 'maxUploadBytes' | 'resultsMinFreeBytes' | 'resultStore'>;

/**
 * Uploaded result archives: received into RESULTS_DIR/.incoming and extracted
 * there to prove them safe. With RESULT_STORE=directory the extraction is kept
 * in RESULTS_DIR/<jobId>/<workerId>/ (pruned by ResultRetentionService); with
 * s3 the archive in the bucket is the record and the extraction is deleted.
 */
@Injectable()
export class UploadedResults implements OnModuleInit {
  private readonly logger = new Logger(UploadedResults.name);

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: UploadedResultsConfig) {}

  /**
   * A conductor that died mid-upload left a partial archive behind; the
   * worker sends the whole archive again (a new UploadResults from the first
   * chunk), so the partial file is only litter.
   */
  async onModuleInit(): Promise<void> {
    // chmod as well as mkdir: a directory left by an older conductor may be world-readable.
    for (const dir of [this.config.resultsDir, this.incomingDir]) {
      await mkdir(dir, { recursive: true, mode: OWNER_ONLY_DIR });
      await chmod(dir, OWNER_ONLY_DIR);
    }
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

  /** Whether the filesystem of RESULTS_DIR keeps RESULTS_MIN_FREE_BYTES free after an upload of `bytes`. */
  async roomFor(bytes: number): Promise<{ enough: boolean; availableBytes: number }> {
    const info = await statfs(this.config.resultsDir);
    const availableBytes = info.bavail * info.bsize;
    return { enough: availableBytes >= this.config.resultsMinFreeBytes + bytes, availableBytes };
  }

  async newIncomingPath(workerId: string): Promise<string> {
    await mkdir(this.incomingDir, { recursive: true, mode: OWNER_ONLY_DIR });
    return join(this.incomingDir, `${workerId}-${randomUUID()}.tar.gz`);
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /**
   * Extracts (off the event loop) into a staging directory, and writes the upload's session object (its
   * `agent-session/` alone, writeSessionObject) beside the archive, for the caller to store and then discard. In
   * directory mode the staging directory is renamed into place, so the final directory only ever holds a complete,
   * checked archive, and a second upload replaces the first; `extractedAt` is that final directory. In s3 mode
   * nothing is kept. `beforeReplace` runs once the archive is proven safe and may veto by throwing.
   */
  async extract(
    archivePath: string,
    jobId: string,
    workerId: string,
    beforeReplace?: () => Promise<void>,
  ): Promise<{ extractedAt: string | undefined; sessionObject: string }> {
    const staging = join(this.incomingDir, `${workerId}-${randomUUID()}.d`);
    const sessionObject = `${archivePath.replace(/\.tar\.gz$/, '')}.agent-session.tar.gz`;
    try {
      const { sessionObject: outcome } = await extractOffLoop(archivePath, staging, { maxBytes: this.config.maxUploadBytes * EXTRACTION_EXPANSION }, sessionObject);
      if (outcome === 'over-bounds') this.logger.warn(`worker ${workerId}: agent-session/ is over the session bounds; a follow-up will read it from the whole archive and refuse it there`);
      await beforeReplace?.();
      if (this.config.resultStore.kind === 's3') return { extractedAt: undefined, sessionObject };
      const jobDir = join(this.config.resultsDir, jobId);
      const finalDir = join(jobDir, workerId);
      await mkdir(jobDir, { recursive: true, mode: OWNER_ONLY_DIR });
      await rm(finalDir, { recursive: true, force: true });
      await rename(staging, finalDir);
      // Retention counts from the upload, not from when the staging directory was last written.
      const now = new Date();
      await utimes(finalDir, now, now);
      return { extractedAt: finalDir, sessionObject };
    } catch (error) {
      await rm(sessionObject, { force: true });
      throw error;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
