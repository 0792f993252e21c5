import type { ResultStore as ResultArchiveStore } from '@agent-conductor/aws';
import { boundedExcerpt, ChunkReceiver, EARLIER_WORK_LIMITS, readFileAsChunks, workerV1 } from '@agent-conductor/contracts';
import type { Job, Worker } from '@agent-conductor/db';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { status } from '@grpc/grpc-js';
import { Controller, Inject, Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { defer, Observable } from 'rxjs';
import { hashWorkerToken, newWorkerToken } from '../common/worker-token';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { EarlierWorkService } from '../earlier-work/earlier-work.service';
import { JobLaunchService } from '../launch/job-launch.service';
import { TaskArchiveStore } from '../launch/task-archive.store';
import { RESULT_ARCHIVE_STORE } from '../results/result-archive.store';
import { HeartbeatService } from './heartbeat.service';
import { pacedMessages, type PausableStream } from './paced-messages';
import { ResultStore } from './result-store';
import { toRpcException } from './transfer-status';
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
  /**
   * Workers with an UploadResults in flight here. Two at once would race to
   * replace each other's extracted results; a worker sends one at a time, so a
   * second is either a bug or someone else holding its session token.
   */
  private readonly uploading = new Set<string>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly auth: WorkerAuthService,
    private readonly workers: WorkerRepository,
    private readonly jobs: JobRepository,
    private readonly archives: TaskArchiveStore,
    private readonly launches: JobLaunchService,
    private readonly results: ResultStore,
    @Inject(RESULT_ARCHIVE_STORE) private readonly archiveStore: ResultArchiveStore,
    private readonly earlierWork: EarlierWorkService,
    private readonly heartbeats: HeartbeatService,
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
    await this.workers.appendEvent(worker.id, 'handshake', {
      workerVersion: request.workerVersion,
      hostname: request.hostname,
    });
    return {
      jobId: job.id,
      jobKind: JOB_KIND[job.kind],
      jobKey: job.key,
      attempt: worker.attempt,
      // The job's route, as the scheduler stored it; a job from before routing has no branch and no sparse paths.
      repository: {
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
    };
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
    return defer(() => this.upload(request, call));
  }

  private async upload(
    request: Observable<workerV1.UploadResultsRequest>,
    call: PausableStream | undefined,
  ): Promise<workerV1.UploadResultsResponse> {
    const messages = pacedMessages(request, call);
    let worker: Worker | undefined;
    try {
      const first = await messages.next();
      const header = first.done ? undefined : first.value.header;
      if (!header) throw rpcError(status.INVALID_ARGUMENT, 'the first UploadResults message must be the header');
      const authenticated = await this.auth.authenticate(header.credentials, 'session');
      worker = authenticated;
      if (header.totalSize > this.config.maxUploadBytes) {
        throw rpcError(status.RESOURCE_EXHAUSTED, `${header.totalSize} bytes exceed the limit of ${this.config.maxUploadBytes}`);
      }
      if (this.uploading.has(authenticated.id)) {
        // ABORTED, not FAILED_PRECONDITION: a worker retrying after a dropped connection may get here before
        // the conductor noticed its first call was gone, and trying again shortly is the right answer.
        throw rpcError(status.ABORTED, `worker ${authenticated.id} already has an UploadResults in flight`);
      }
      this.uploading.add(authenticated.id);
      try {
        return await this.receive(authenticated, header, messages);
      } finally {
        this.uploading.delete(authenticated.id);
      }
    } catch (error) {
      const failure = this.failure('UploadResults', error);
      if (worker) {
        const { code, message } = describeRpc(failure);
        await this.workers.appendEvent(worker.id, 'upload-rejected', { code, message }).catch(() => undefined);
      }
      throw failure;
    } finally {
      // Stops the subscription if we gave up before the client finished sending.
      await messages.return(undefined);
    }
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

  async shutdown(request: workerV1.ShutdownRequest): Promise<workerV1.ShutdownResponse> {
    const worker = await this.auth.authenticate(request.credentials, 'session');
    const succeeded = request.outcome === workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED;
    const error = succeeded ? null : request.error || 'the worker reported a failure without a reason';
    const reported = request.result;
    const archive = await this.workers.latestEventDetail(worker.id, 'results-uploaded');
    const resultArchive = typeof archive?.['archive'] === 'string' ? archive['archive'] : undefined;
    const result = reported
      ? {
          ...(resultArchive ? { resultArchive } : {}),
          branch: reported.branch,
          ...(reported.pullRequest ? { pullRequest: reported.pullRequest } : {}),
          ...(reported.report ? { report: reported.report } : {}),
          title: reported.title,
          // What the next agent on the repository reads of this one's ending report (EarlierWork.summary).
          ...(reported.summary ? { summary: boundedExcerpt(reported.summary, EARLIER_WORK_LIMITS.summaryChars) } : {}),
        }
      : null;
    const usage = request.usage
      ? {
          inputTokens: request.usage.inputTokens,
          cachedInputTokens: request.usage.cachedInputTokens,
          outputTokens: request.usage.outputTokens,
          turns: request.usage.turns,
          durationMs: request.usage.durationMs,
          model: request.usage.model || null,
        }
      : null;
    await this.workers.transaction(async (tx) => {
      const ended = await this.workers.end(worker.id, `shutdown: ${succeeded ? 'succeeded' : 'failed'}`, tx);
      if (!ended) throw rpcError(status.FAILED_PRECONDITION, `worker ${worker.id} has ended`);
      await this.workers.appendEvent(
        worker.id,
        'shutdown',
        { outcome: workerV1.JobOutcome[request.outcome] ?? String(request.outcome), error, result, usage },
        tx,
      );
      await this.jobs.finish(worker.jobId, { status: succeeded ? 'succeeded' : 'failed', error, result, usage }, tx);
    });
    this.logger.log(`job ${worker.jobId}: worker ${worker.id} shut down, ${succeeded ? 'succeeded' : `failed: ${error}`}`);
    // The job's slot and claim are free: the next job in line may start.
    this.launches.requestAdmission();
    return {};
  }

  private async receive(
    worker: Worker,
    header: workerV1.UploadHeader,
    messages: AsyncGenerator<workerV1.UploadResultsRequest>,
  ): Promise<workerV1.UploadResultsResponse> {
    const incoming = await this.results.newIncomingPath(worker.id);
    const receiver = new ChunkReceiver(incoming, {
      maxBytes: this.config.maxUploadBytes,
      expectedSize: header.totalSize,
      ...(header.sha256 ? { expectedSha256: header.sha256 } : {}),
    });
    try {
      for await (const message of messages) {
        if (!message.chunk) throw rpcError(status.INVALID_ARGUMENT, 'only the first UploadResults message may be a header');
        await receiver.accept(message.chunk);
      }
      const { bytes, sha256 } = await receiver.finish();
      // The transfer may have outlived the worker (its Shutdown came first, or it was given up on): its job's
      // results are final, so a late archive must not replace them. Checked again right before the swap.
      await this.ensureNotEnded(worker.id);
      const storedAt = await this.results.extract(incoming, worker.jobId, worker.id, () => this.ensureNotEnded(worker.id));
      let archive: string;
      try {
        ({ location: archive } = await this.archiveStore.store({ jobId: worker.jobId, workerId: worker.id, attempt: worker.attempt }, incoming));
      } catch (error) {
        // The store (S3) failing is the conductor's trouble, not the upload's: UNAVAILABLE makes the worker send it again.
        this.logger.error(`storing the result archive of worker ${worker.id} failed: ${error instanceof Error ? error.message : String(error)}`);
        throw rpcError(status.UNAVAILABLE, 'the result archive could not be stored; retry the upload');
      }
      await this.workers.appendEvent(worker.id, 'results-uploaded', { bytes, sha256, storedAt, archive });
      await this.workers.touch(worker.id);
      return { receivedBytes: bytes, storedAt };
    } catch (error) {
      await receiver.abort();
      throw error;
    } finally {
      await this.results.discard(incoming);
    }
  }

  private async ensureNotEnded(workerId: string): Promise<void> {
    const current = await this.workers.findById(workerId);
    if (!current || current.state === 'ended') {
      throw rpcError(status.FAILED_PRECONDITION, `worker ${workerId} has ended; its upload was discarded`);
    }
  }

  private failure(rpc: string, error: unknown): RpcException {
    const failure = toRpcException(error);
    if (describeRpc(failure).code === status.INTERNAL) {
      this.logger.error(`${rpc} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return failure;
  }
}

function describeRpc(exception: RpcException): { code: number; message: string } {
  const error = exception.getError();
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return { code: Number(error.code), message: String(error.message) };
  }
  return { code: status.UNKNOWN, message: String(error) };
}
