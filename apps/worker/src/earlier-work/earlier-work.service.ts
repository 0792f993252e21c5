import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import type { workerV1 } from '@agent-conductor/contracts';
import { redactor } from '../agent/transcript';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import { httpAuthEnv } from '../git/authenticated-push';
import { GitCli } from '../git/git-cli';
import { earlierWorkSection, remoteTrackingRef, usableCandidates } from './earlier-work-section';
import { UNMERGED_FILTER, type EarlierWorkContext, type UnmergedFilter } from './unmerged-filter';

/**
 * Before the agent starts: fetches the branches of earlier agents' unmerged pull requests on the job's repository
 * into the clone, and lists them at the end of TASK.md, so that agents build on each other instead of colliding.
 */
@Injectable()
export class EarlierWorkService {
  private readonly logger = new Logger(EarlierWorkService.name);

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly git: GitCli,
    private readonly fs: FileSystem,
    @Inject(UNMERGED_FILTER) private readonly filter: UnmergedFilter,
  ) {}

  /** The branches listed in TASK.md. Earlier work is a help, not the job: a failure to find it is logged, never fatal. */
  async prepare(workDir: string, context: EarlierWorkContext, offered: workerV1.EarlierWork[]): Promise<string[]> {
    const redact = redactor(workerSecrets(this.config));
    const candidates = usableCandidates(offered, redact);
    if (candidates.length === 0) return [];
    try {
      const fetched = await this.fetchExisting(context, candidates);
      const unmerged = await this.filter.unmerged(context, fetched);
      if (unmerged.length > 0) {
        // Whatever the filter read from the host passes the same bounds and redaction again.
        const section = earlierWorkSection(usableCandidates(unmerged, redact), context.baseBranch);
        const taskPath = join(workDir, 'TASK.md');
        const task = (await this.fs.readTextIfExists(taskPath)) ?? '';
        await this.fs.writeText(taskPath, `${task.trimEnd()}\n\n${section}`);
      }
      this.logger.log(`Earlier work: ${unmerged.length} unmerged of ${candidates.length} offered${unmerged.length > 0 ? `: ${unmerged.map((entry) => entry.branch).join(', ')}` : ''}`);
      return unmerged.map((entry) => entry.branch);
    } catch (error) {
      this.logger.warn(`Earlier work left out of TASK.md: ${redact(error instanceof Error ? error.message : String(error))}`);
      return [];
    }
  }

  /** The candidates whose branch the remote still has, fetched as origin/<branch>; the rest were deleted (merged, or given up). */
  private async fetchExisting(context: EarlierWorkContext, candidates: workerV1.EarlierWork[]): Promise<workerV1.EarlierWork[]> {
    const auth = this.config.github ? httpAuthEnv(context.cloneUrl, this.config.github.token) : {};
    const listing = await this.git.runWithCredential(context.repoDir, ['ls-remote', '--heads', '--', context.cloneUrl, ...candidates.map((candidate) => `refs/heads/${candidate.branch}`)], auth);
    const present = new Set(listing.split('\n').map((line) => line.split('\t')[1]?.trim()).filter((ref): ref is string => ref !== undefined && ref !== ''));
    const existing = candidates.filter((candidate) => present.has(`refs/heads/${candidate.branch}`));
    if (existing.length === 0) return [];
    const refspecs = existing.map((candidate) => `+refs/heads/${candidate.branch}:${remoteTrackingRef(candidate.branch)}`);
    await this.git.runWithCredential(context.repoDir, ['fetch', '--quiet', '--no-tags', '--', context.cloneUrl, ...refspecs], auth);
    return existing;
  }
}
