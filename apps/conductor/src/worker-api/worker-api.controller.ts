import { readFileAsChunks, workerV1 } from '@agent-conductor/contracts';
import type { Job } from '@agent-conductor/db';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { status } from '@grpc/grpc-js';
import { Controller, Inject, Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { defer, Observable } from 'rxjs';
import { continuedRepository, InvalidJobRepositoriesError, jobRepositories, repositorySpecs } from '../common/job-repositories';
import { hashWorkerToken, newWorkerToken } from '../common/worker-token';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { EarlierWorkService } from '../earlier-work/earlier-work.service';
import { FollowUpLaunchService } from '../follow-up/follow-up-launch.service';
import { FollowUpSessionService } from '../follow-up-session/follow-up-session.service';
import { AgentCredentialsService } from '../investigation-access/agent-credentials.service';
import { TaskArchiveStore } from '../launch/task-archive.store';
import { AgentCredentialsRefreshService } from './agent-credentials-refresh.service';
import { HeartbeatService } from './heartbeat.service';
import type { PausableStream } from './paced-messages';
import { ResultUploadService } from './result-upload.service';
import { describeRpc, toRpcException } from './transfer-status';
import { WorkerShutdownService } from './worker-shutdown.service';
import { rpcError, WorkerAuthService } from './worker-auth.service';

const JOB_KIND: Record<Job['kind'], workerV1.JobKind> = {
  ticket: workerV1.JobKind.JOB_KIND_TICKET,
  incident: workerV1.JobKind.JOB_KIND_INCIDENT,
};

/** "acme/orders-api" from https://github.com/acme/orders-api.git, "sample-app" from /srv/sample-app.git. */
export function repositoryName(cloneUrl: string): string {
  const trimmed = cloneUrl.replace(/\/+$/, '').replace(/\.git$/, '');
  try {
    const url = new URL(trimmed);
    if (url.protocol !== 'file:' && url.pathname.length > 1) return url.pathname.replace(/^\/+/, '');
  } catch {
    // A plain path, not a URL.
  }
  return trimmed.split('/').pop() ?? trimmed;
}

/** The gRPC API workers call (agentconductor.worker.v1.WorkerService). */
@Controller()
@workerV1.WorkerServiceControllerMethods()
export class WorkerApiController implements workerV1.WorkerServiceController {
  private readonly logger = new Logger(WorkerApiController.name);

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly auth: WorkerAuthService,
    private readonly workers: WorkerRepository,
    private readonly jobs: JobRepository,
    private readonly archives: TaskArchiveStore,
    private readonly uploads: ResultUploadService,
    private readonly shutdowns: WorkerShutdownService,
    private readonly earlierWork: EarlierWorkService,
    private readonly heartbeats: HeartbeatService,
    private readonly followUps: FollowUpLaunchService,
    private readonly followUpSessions: FollowUpSessionService,
    private readonly agentCredentials: AgentCredentialsService,
    private readonly agentCredentialsRefresh: AgentCredentialsRefreshService,
  ) {}

  async handshake(request: workerV1.HandshakeRequest): Promise<workerV1.HandshakeResponse> {
    const worker = await this.auth.authenticate(request.credentials, 'handshake');
    const sessionToken = newWorkerToken();
    if (!(await this.workers.connect(worker.id, worker.tokenHash, hashWorkerToken(sessionToken)))) {
      // Ended meanwhile, or a concurrent Handshake with the same launch token won the exchange.
      throw rpcError(status.UNAUTHENTICATED, 'unknown worker or wrong token');
    }
    await this.jobs.markRunning(worker.jobId);
    const job = await this.jobs.findById(worker.jobId);
    if (!job) throw rpcError(status.NOT_FOUND, `job ${worker.jobId} does not exist`);
    const archive = await this.archives.describe(worker.id);
    const followUp = await this.followUpHandshake(job, worker.id);
    const repositories = this.repositorySpecs(job);
    // A follow-up continues one pull request: only the repository that holds it (docs/multi-repository.md).
    const continued = followUp && repositories.length > 0 ? await this.continuedRepository(job, followUp.pullRequest) : undefined;
    await this.workers.appendEvent(worker.id, 'handshake', {
      workerVersion: request.workerVersion,
      hostname: request.hostname,
    });
    // Read-only incident jobs only: the job's own account and each other account of its group that grants it
    // (docs/incident-access.md).
    const agentAws = await this.agentCredentials.atHandshake(worker.id, job);
    return {
      jobId: job.id,
      jobKind: JOB_KIND[job.kind],
      jobKey: job.key,
      attempt: worker.attempt,
      // The job's route, as the scheduler stored it; a job from before routing has no branch and no sparse paths.
      repository: continued ?? {
        cloneUrl: job.repository,
        defaultBranch: job.branch ?? this.config.defaultRepositoryBranch,
        sparsePaths: job.sparsePaths ?? [],
        name: repositoryName(job.repository),
      },
      taskArchiveSize: archive.bytes,
      taskArchiveSha256: archive.sha256,
      heartbeatIntervalMs: this.config.workerHeartbeatIntervalMs,
      maxUploadBytes: this.config.maxUploadBytes,
      sessionToken,
      earlierWork: await this.earlierWork.candidatesFor(job),
      // 0: the route set no budget; the worker's AGENT_MAX_TOKENS still applies.
      maxTokens: job.maxTokens ?? 0,
      // A follow-up job: the pull request's branch to check out, push to and reply on (docs/follow-up-runs.md), and the
      // earlier agent session to resume (docs/context-reuse.md).
      followUp,
      // Validated at launch; empty for a one-repository job and for a follow-up (docs/multi-repository.md).
      repositories: followUp ? [] : repositories,
      agentAwsCredentials: agentAws.own,
      otherAccountAwsCredentials: agentAws.others,
    };
  }

  private repositorySpecs(job: Job): workerV1.RepositorySpec[] {
    try {
      return repositorySpecs(job);
    } catch (error) {
      if (error instanceof InvalidJobRepositoriesError) throw rpcError(status.FAILED_PRECONDITION, error.message);
      throw error;
    }
  }

  private async continuedRepository(job: Job, pullRequest: string): Promise<workerV1.RepositorySpec> {
    const first = job.followUpOfId === null ? null : await this.jobs.findById(job.followUpOfId);
    const repository = continuedRepository(jobRepositories(job), first?.result ?? null, pullRequest);
    if (!repository) throw rpcError(status.FAILED_PRECONDITION, `follow-up job ${job.id} continues ${pullRequest}, which none of its repositories recorded`);
    return { cloneUrl: repository.url, defaultBranch: repository.branch, sparsePaths: repository.sparsePaths, name: repositoryName(repository.url) };
  }

  /** Task archives are a few KiB, so the chunks are not paced against the client's flow control. */
  downloadTaskFiles(request: workerV1.DownloadTaskFilesRequest): Observable<workerV1.DownloadTaskFilesResponse> {
    return new Observable<workerV1.DownloadTaskFilesResponse>((subscriber) => {
      const send = async (): Promise<void> => {
        const worker = await this.auth.authenticate(request.credentials, 'session');
        let bytes = 0;
        for await (const chunk of readFileAsChunks(this.archives.pathFor(worker.id))) {
          if (subscriber.closed) return;
          bytes += chunk.data.length;
          subscriber.next({ chunk });
        }
        await this.workers.appendEvent(worker.id, 'task-files-sent', { bytes });
        subscriber.complete();
      };
      send().catch((error: unknown) => subscriber.error(this.failure('DownloadTaskFiles', error)));
    });
  }

  /**
   * Returns an Observable, not a Promise: Nest's GrpcStreamMethod releases the
   * buffered request stream (including its completion) only once the handler
   * has returned, and a Promise-returning handler returns only when done, so
   * it would wait forever for the end of its own input.
   */
  uploadResults(
    request: Observable<workerV1.UploadResultsRequest>,
    _metadata?: unknown,
    call?: PausableStream,
  ): Observable<workerV1.UploadResultsResponse> {
    return defer(() => this.uploads.upload(request, call));
  }

  async reportAgentError(request: workerV1.ReportAgentErrorRequest): Promise<workerV1.ReportAgentErrorResponse> {
    const worker = await this.auth.authenticate(request.credentials, 'session');
    await this.workers.appendEvent(worker.id, 'agent-error', { stage: request.stage, message: request.message });
    await this.jobs.recordError(worker.jobId, request.stage ? `${request.stage}: ${request.message}` : request.message);
    await this.workers.touch(worker.id);
    return {};
  }

  heartbeat(request: workerV1.HeartbeatRequest): Promise<workerV1.HeartbeatResponse> {
    return this.heartbeats.beat(request);
  }

  shutdown(request: workerV1.ShutdownRequest): Promise<workerV1.ShutdownResponse> {
    return this.shutdowns.shutdown(request);
  }

  private async followUpHandshake(job: Job, workerId: string): Promise<workerV1.FollowUp | undefined> {
    const followUp = await this.followUps.handshake(job);
    return followUp ? { ...followUp, resumeThreadId: await this.followUpSessions.resumeThreadId(workerId) } : undefined;
  }

  refreshAgentCredentials(request: workerV1.RefreshAgentCredentialsRequest): Promise<workerV1.RefreshAgentCredentialsResponse> {
    return this.agentCredentialsRefresh.refresh(request);
  }

  private failure(rpc: string, error: unknown): RpcException {
    const failure = toRpcException(error);
    if (describeRpc(failure).code === status.INTERNAL) {
      this.logger.error(`${rpc} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return failure;
  }
}
