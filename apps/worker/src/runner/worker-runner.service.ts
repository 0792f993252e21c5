import { Inject, Injectable, Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { boundedExcerpt, EARLIER_WORK_LIMITS, workerV1 } from '@agent-conductor/contracts';
import { AgentAwsCredentials } from '../agent-aws/agent-aws-credentials.service';
import { AGENT_RUNNER, FIRST_PROMPT, type AgentRunner, type AgentUsage } from '../agent/agent-runner';
import { redactor } from '../agent/transcript';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { ConductorClient } from '../conductor/conductor-client';
import { EarlierWorkService } from '../earlier-work/earlier-work.service';
import { FileSystem } from '../fs/file-system';
import { HeartbeatService } from '../heartbeat/heartbeat.service';
import { AgentSandbox } from '../process/agent-sandbox';
import { PUBLISHER, type Publisher, type PublishResult } from '../publish/publisher';
import { ResultsUploader } from '../results/results-uploader.service';
import { TaskFilesService } from '../task-files/task-files.service';
import { ArtifactValidator, type ArtifactReport } from '../validation/artifact-validator.service';
import { RepositoryService } from '../workspace/repository.service';
import { MultiRepositoryPublisher } from '../multi-repo/multi-repository-publisher';
import { MultiRepositoryService } from '../multi-repo/multi-repository.service';
import { setWorkerLogContext } from '../logging/worker-logger';

export const WORKER_VERSION = '0.1.0';

type Stage = 'download' | 'clone' | 'agent' | 'validation' | 'publish' | 'upload';

interface JobEnding {
  outcome: workerV1.JobOutcome;
  result: PublishResult | undefined;
  error: string;
  /** What later agents on the repository read of this one's ending report. */
  summary?: string;
}

export interface WorkerRunOutcome {
  /** Whether the conductor accepted the Shutdown, i.e. the job's end is on record. */
  reported: boolean;
  outcome: workerV1.JobOutcome;
  result: workerV1.JobResult | undefined;
  error: string;
}

/** The job's error when the conductor asked the worker to stop (an operator cancelled the job). */
export const STOPPED = 'stopped: the conductor asked this worker to stop (the job was cancelled)';

/** Bounds what one ReportAgentError carries of the agent's own output. */
const REPORTED_OUTPUT_CHARS = 4_000;

export function retryPrompt(previousAttempt: number, errors: string[]): string {
  return [
    `Your previous attempt (attempt ${previousAttempt}) did not pass validation. Fix exactly these problems:`,
    '',
    ...errors.map((error) => `- ${error}`),
    '',
    'The task is unchanged: do the task in TASK.md following AGENTS.md.',
    '',
  ].join('\n');
}

/** Runs the one job this worker was launched for, from handshake to shutdown. */
@Injectable()
export class WorkerRunner {
  private readonly logger = new Logger(WorkerRunner.name);
  /** The agent's latest report of what the job has cost so far; what Shutdown carries. */
  private usage: AgentUsage | undefined;
  /** The agent's thread, when its session is in the results for a follow-up to resume (JobResult.agentThreadId). */
  private agentThreadId = '';

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly conductor: ConductorClient,
    private readonly heartbeat: HeartbeatService,
    private readonly taskFiles: TaskFilesService,
    private readonly repository: RepositoryService,
    @Inject(AGENT_RUNNER) private readonly agent: AgentRunner,
    private readonly validator: ArtifactValidator,
    @Inject(PUBLISHER) private readonly publisher: Publisher,
    private readonly uploader: ResultsUploader,
    private readonly fs: FileSystem,
    private readonly earlierWork: EarlierWorkService,
    private readonly sandbox: AgentSandbox,
    private readonly multiRepository: MultiRepositoryService,
    private readonly multiRepositoryPublisher: MultiRepositoryPublisher,
    private readonly agentAws: AgentAwsCredentials,
  ) {}

  async run(): Promise<WorkerRunOutcome> {
    let job: workerV1.HandshakeResponse;
    try {
      await this.fs.ensureDir(this.config.workDir);
      job = await this.conductor.handshake({ workerVersion: WORKER_VERSION, hostname: hostname() });
    } catch (error) {
      const message = `handshake failed: ${describe(error)}`;
      this.logger.error(message);
      return { reported: false, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: message };
    }
    setWorkerLogContext({ jobId: job.jobId });
    this.logger.log(`Job ${job.jobId} (${job.jobKey}), attempt ${job.attempt}; work dir ${this.config.workDir}`);
    this.heartbeat.start(job.heartbeatIntervalMs);
    const progress: { stage: Stage } = { stage: 'download' };
    try {
      const ending = await this.work(job, progress);
      return await this.shutdown(ending);
    } catch (error) {
      const message = `${progress.stage} failed: ${describe(error)}`;
      this.logger.error(message);
      try {
        await this.conductor.reportAgentError(progress.stage, message);
      } catch (reportError) {
        this.logger.warn(`ReportAgentError failed: ${describe(reportError)}`);
      }
      try {
        return await this.shutdown({ outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: message });
      } catch (shutdownError) {
        this.logger.error(`Shutdown failed: ${describe(shutdownError)}`);
        return { reported: false, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: message };
      }
    } finally {
      await this.agentAws.remove();
      this.heartbeat.stop();
    }
  }

  private async work(job: workerV1.HandshakeResponse, progress: { stage: Stage }): Promise<JobEnding> {
    const workDir = this.config.workDir;
    const repository = job.repository;
    if (!repository || repository.cloneUrl === '') throw new Error('the handshake named no repository');
    const defaultBranch = repository.defaultBranch || 'main';
    // Several repositories, each under repo/<name>/ (docs/multi-repository.md); empty: the one repository in repo/.
    const repositories = job.repositories;
    const multi = repositories.length > 0;

    this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_PREPARING);
    progress.stage = 'download';
    await this.taskFiles.fetchInto(workDir, job);
    progress.stage = 'clone';
    if (multi && job.followUp) throw new Error('a follow-up job over several repositories is not supported: a follow-up continues one pull request');
    const repoDir = multi ? await this.multiRepository.clone(workDir, repositories) : await this.repository.clone(workDir, repository);
    // A follow-up continues its pull request's branch (docs/follow-up-runs.md); that branch is not earlier work.
    const followUp = job.followUp ? await this.repository.checkOutFollowUp(repoDir, repository.cloneUrl, job.followUp) : undefined;
    const earlierWork = followUp ? job.earlierWork.filter((entry) => entry.branch !== followUp.headBranch) : job.earlierWork;
    if (followUp && job.followUp?.resumeThreadId === '') await this.appendBranchSoFar(workDir, repoDir, defaultBranch);
    // Earlier work is per repository; a job over several starts without it (docs/multi-repository.md).
    if (!multi) await this.earlierWork.prepare(workDir, { repoDir, cloneUrl: repository.cloneUrl, baseBranch: defaultBranch }, earlierWork);
    // Read-only incident jobs only: a credentials file outside the work dir (one profile per account), refreshed until
    // the agent is done.
    await this.agentAws.install(workDir, job);
    // From here on the work dir is the agent's, and everything in it is untrusted.
    await this.sandbox.handOver(workDir);

    let prompt = FIRST_PROMPT;
    let artifacts: ArtifactReport | undefined;
    for (let attempt = 1; attempt <= this.config.maxAgentAttempts; attempt++) {
      if (this.heartbeat.stopRequested) return this.failWithUpload(job, STOPPED);
      progress.stage = 'agent';
      this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING);
      const run = await this.agent.run({
        workDir,
        prompt,
        attempt,
        ...(job.maxTokens > 0 ? { maxTokens: job.maxTokens } : {}),
        stop: this.heartbeat.stopSignal,
        // Context reuse (docs/context-reuse.md): the task archive carries the earlier thread's session.
        ...(job.followUp?.resumeThreadId ? { resumeThreadId: job.followUp.resumeThreadId } : {}),
      });
      // Whatever the agent left running must not rewrite its artifacts while they are read, nor race the push.
      await this.sandbox.killAll();
      if (run.usage) this.usage = run.usage;
      // A stop kills the agent, so its exit status says nothing about the agent: the cancel is the story.
      if (this.heartbeat.stopRequested) return this.failWithUpload(job, STOPPED);
      if (run.timedOut || run.exitCode !== 0) {
        const error =
          run.error ?? (run.timedOut ? `agent timed out after ${this.config.agentTimeoutMs} ms` : `agent exited with code ${run.exitCode ?? 'none (killed by a signal)'}`);
        const tail = run.output.slice(-REPORTED_OUTPUT_CHARS);
        await this.conductor.reportAgentError('agent', tail === '' ? error : `${error}\n--- agent output (tail) ---\n${tail}`);
        return this.failWithUpload(job, error);
      }
      progress.stage = 'validation';
      this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_VALIDATING);
      artifacts = multi ? await this.multiRepository.validate(workDir, repositories) : await this.validator.validate(workDir, defaultBranch, followUp);
      if (artifacts.errors.length === 0) break;
      this.logger.warn(`Attempt ${attempt} failed validation:\n${artifacts.errors.map((e) => `  - ${e}`).join('\n')}`);
      prompt = retryPrompt(attempt, artifacts.errors);
    }
    // The agent is done: nothing started from here on (validation, the push) runs with its AWS session.
    await this.agentAws.remove();
    if (!artifacts || artifacts.errors.length > 0 || artifacts.outcome === undefined) {
      const errors = artifacts?.errors ?? ['the agent never ran'];
      await this.conductor.reportAgentError('validation', errors.join('\n'));
      return this.failWithUpload(job, `artifact validation failed after ${this.config.maxAgentAttempts} attempts: ${errors.join('; ')}`);
    }

    // Nothing is published for a job cancelled before its work was published.
    if (this.heartbeat.stopRequested) return this.failWithUpload(job, STOPPED);
    progress.stage = 'publish';
    this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_PUBLISHING);
    const commitsAhead = multi
      ? 0
      : followUp
        ? await this.validator.commitsOnTop(repoDir, followUp.baseCommit)
        : artifacts.branch !== undefined && artifacts.branch !== defaultBranch
          ? await this.validator.commitsAhead(repoDir, defaultBranch)
          : 0;
    const multiRepositoryRequest = { workDir, jobId: job.jobId, repositories, outcome: artifacts.outcome, title: artifacts.title, report: artifacts.report };
    const result = multi ? await this.multiRepositoryPublisher.publish(multiRepositoryRequest) : await this.publisher.publish({
      workDir,
      repoDir,
      workerId: this.config.workerId,
      jobId: job.jobId,
      repository: { cloneUrl: repository.cloneUrl, defaultBranch, name: repository.name },
      outcome: artifacts.outcome,
      title: artifacts.title,
      report: artifacts.report,
      branch: artifacts.branch !== defaultBranch ? artifacts.branch : undefined,
      commitsAhead,
      ...(followUp ? { followUp } : {}),
    });

    progress.stage = 'upload';
    this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_UPLOADING);
    await this.saveAgentSession(workDir);
    await this.uploader.upload(workDir, job.maxUploadBytes);
    const summary = boundedExcerpt(redactor(workerSecrets(this.config))(artifacts.report), EARLIER_WORK_LIMITS.summaryChars);
    return artifacts.outcome !== 'failed'
      ? { outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result, error: '', summary }
      : { outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result, error: `agent reported the job failed: ${artifacts.title}`, summary };
  }

  /** A fresh follow-up (no session to resume) learns what the branch holds from TASK.md; a help, never fatal. */
  private async appendBranchSoFar(workDir: string, repoDir: string, baseBranch: string): Promise<void> {
    try {
      const section = await this.repository.branchSoFarSection(repoDir, baseBranch);
      const taskPath = join(workDir, 'TASK.md');
      const task = (await this.fs.readTextIfExists(taskPath)) ?? '';
      await this.fs.writeText(taskPath, `${task.trimEnd()}\n\n${section}`);
    } catch (error) {
      this.logger.warn(`The branch so far left out of TASK.md: ${redactor(workerSecrets(this.config))(describe(error))}`);
    }
  }

  /** The job has failed for a known reason; the work dir is still worth having, but not worth masking that reason. */
  private async failWithUpload(job: workerV1.HandshakeResponse, error: string): Promise<JobEnding> {
    this.heartbeat.setPhase(workerV1.WorkerPhase.WORKER_PHASE_UPLOADING);
    try {
      await this.saveAgentSession(this.config.workDir);
      await this.uploader.upload(this.config.workDir, job.maxUploadBytes);
    } catch (uploadError) {
      this.logger.warn(`Uploading the results of a failed job failed: ${describe(uploadError)}`);
    }
    return { outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error };
  }

  /** A session not saved costs a follow-up its context, never this job its result. */
  private async saveAgentSession(workDir: string): Promise<void> {
    if (!this.agent.saveSession) return;
    // Every agent process is gone by now (killAll after each run), so nothing rewrites the session while it is copied.
    await this.sandbox.killAll();
    try {
      this.agentThreadId = (await this.agent.saveSession(workDir)) ?? '';
    } catch (error) {
      this.logger.warn(`Saving the agent's session for a follow-up failed: ${describe(error)}`);
    }
  }

  private async shutdown(ending: JobEnding): Promise<WorkerRunOutcome> {
    const result: workerV1.JobResult | undefined = ending.result
      ? {
          branch: ending.result.branch ?? '',
          pullRequest: ending.result.pullRequest ?? '',
          report: ending.result.report ?? '',
          title: ending.result.title,
          summary: ending.summary ?? '',
          agentThreadId: this.agentThreadId,
          changes: ending.result.changes ?? [],
        }
      : undefined;
    const usage: workerV1.AgentUsage | undefined = this.usage ? { ...this.usage, model: this.usage.model ?? '', contextReused: this.usage.contextReused === true } : undefined;
    await this.heartbeat.stopAndSettle();
    await this.conductor.shutdown({ outcome: ending.outcome, result, error: ending.error, usage });
    const label = ending.outcome === workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED ? 'succeeded' : `failed: ${ending.error}`;
    this.logger.log(`Job ${label}`);
    return { reported: true, outcome: ending.outcome, result, error: ending.error };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
