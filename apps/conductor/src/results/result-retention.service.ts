import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

type RetentionConfig = Pick<ConductorConfig, 'resultsDir' | 'resultsRetentionMs' | 'resultsMaxBytes' | 'resultsPruneIntervalMs'>;

/** RESULTS_DIR/<jobId>/<workerId>: the only directories the pruner deletes. `.incoming` and `archives` are not job ids. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ExtractedResult {
  path: string;
  jobDir: string;
  uploadedAtMs: number;
  bytes: number;
}

export interface PruneOutcome {
  removed: number;
  keptBytes: number;
}

/**
 * Keeps the extracted results in RESULTS_DIR bounded: each is deleted once
 * older than RESULTS_RETENTION_DAYS, and past RESULTS_MAX_BYTES the oldest go
 * first. The archives (RESULT_STORE) are the record; these are a convenience.
 */
@Injectable()
export class ResultRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ResultRetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneOutcome> | undefined;

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: RetentionConfig) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), this.config.resultsPruneIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; overlapping calls share the pass in progress. */
  prune(nowMs: number = Date.now()): Promise<PruneOutcome> {
    this.running ??= this.pruneOnce(nowMs)
      .catch((error: unknown) => {
        this.logger.error(`pruning extracted results failed: ${error instanceof Error ? error.message : String(error)}`);
        return { removed: 0, keptBytes: 0 };
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async pruneOnce(nowMs: number): Promise<PruneOutcome> {
    const results = (await this.extractedResults()).sort((a, b) => a.uploadedAtMs - b.uploadedAtMs);
    let keptBytes = results.reduce((sum, result) => sum + result.bytes, 0);
    let removed = 0;
    const touchedJobDirs = new Set<string>();
    for (const result of results) {
      const expired = nowMs - result.uploadedAtMs > this.config.resultsRetentionMs;
      if (!expired && keptBytes <= this.config.resultsMaxBytes) break;
      await rm(result.path, { recursive: true, force: true });
      keptBytes -= result.bytes;
      removed += 1;
      touchedJobDirs.add(result.jobDir);
    }
    // A job directory is removed only once empty; a concurrent upload into it makes rmdir fail, which is fine.
    for (const jobDir of touchedJobDirs) await rmdir(jobDir).catch(() => undefined);
    if (removed > 0) this.logger.log(`pruned ${removed} extracted result(s); ${keptBytes} bytes kept`);
    return { removed, keptBytes };
  }

  private async extractedResults(): Promise<ExtractedResult[]> {
    const results: ExtractedResult[] = [];
    for (const jobId of await namesIn(this.config.resultsDir)) {
      if (!UUID.test(jobId)) continue;
      const jobDir = join(this.config.resultsDir, jobId);
      for (const workerId of await namesIn(jobDir)) {
        if (!UUID.test(workerId)) continue;
        const path = join(jobDir, workerId);
        const info = await lstat(path).catch(() => undefined);
        if (!info?.isDirectory()) continue;
        results.push({ path, jobDir, uploadedAtMs: info.mtimeMs, bytes: await treeBytes(path) });
      }
    }
    return results;
  }
}

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Disk usage of a tree, by allocated blocks; symlinks are not followed (extraction never makes any). */
async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  let bytes = info.blocks * 512;
  if (info.isDirectory()) {
    for (const name of await namesIn(path)) bytes += await treeBytes(join(path, name));
  }
  return bytes;
}
