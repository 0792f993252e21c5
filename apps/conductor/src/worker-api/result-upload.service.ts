import type { ResultStore as ResultArchiveStore } from '@agent-conductor/aws';
import { ChunkReceiver, workerV1 } from '@agent-conductor/contracts';
import type { Worker } from '@agent-conductor/db';
import { WorkerRepository } from '@agent-conductor/db';
import { status } from '@grpc/grpc-js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RpcException } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { RESULT_ARCHIVE_STORE } from '../results/result-archive.store';
import { UploadedResults } from '../results/uploaded-results';
import { pacedMessages, type PausableStream } from './paced-messages';
import { describeRpc, toRpcException } from './transfer-status';
import { rpcError, WorkerAuthService } from './worker-auth.service';

/**
 * UploadResults: authenticates the header, checks size and free disk, takes
 * the worker's upload lock, receives the chunks, proves the archive safe (off
 * the event loop) and hands it, and its agent session alone, to the RESULT_STORE.
 */
@Injectable()
export class ResultUploadService {
  private readonly logger = new Logger(ResultUploadService.name);
  /**
   * Workers with an UploadResults in flight here. Two at once would race to
   * replace each other's extracted results; a worker sends one at a time, so a
   * second is either a bug or someone else holding its session token.
   */
  private readonly uploading = new Set<string>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'maxUploadBytes'>,
    private readonly auth: WorkerAuthService,
    private readonly workers: WorkerRepository,
    private readonly results: UploadedResults,
    @Inject(RESULT_ARCHIVE_STORE) private readonly archiveStore: ResultArchiveStore,
  ) {}

  async upload(request: Observable<workerV1.UploadResultsRequest>, call: PausableStream | undefined): Promise<workerV1.UploadResultsResponse> {
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
      const room = await this.results.roomFor(header.totalSize);
      if (!room.enough) {
        this.logger.warn(`refused an upload of ${header.totalSize} bytes from worker ${authenticated.id}: ${room.availableBytes} bytes free`);
        throw rpcError(status.RESOURCE_EXHAUSTED, 'the conductor is short of disk space; send the upload again later');
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
      const failure = this.failure(error);
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

  private async receive(
    worker: Worker,
    header: workerV1.UploadHeader,
    messages: AsyncGenerator<workerV1.UploadResultsRequest>,
  ): Promise<workerV1.UploadResultsResponse> {
    const incoming = await this.results.newIncomingPath(worker.id);
    let discardAlso: string | undefined;
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
      const { extractedAt, sessionObject } = await this.results.extract(incoming, worker.jobId, worker.id, () => this.ensureNotEnded(worker.id));
      discardAlso = sessionObject;
      const key = { jobId: worker.jobId, workerId: worker.id, attempt: worker.attempt };
      let archive: string;
      try {
        ({ location: archive } = await this.archiveStore.store(key, incoming));
        // Every upload writes both, so a repeated upload of an attempt never pairs its archive with an older session.
        await this.archiveStore.storeSession(key, sessionObject);
      } catch (error) {
        // The store (S3) failing is the conductor's trouble, not the upload's: UNAVAILABLE makes the worker send it again.
        this.logger.error(`storing the result archive of worker ${worker.id} failed: ${error instanceof Error ? error.message : String(error)}`);
        throw rpcError(status.UNAVAILABLE, 'the result archive could not be stored; retry the upload');
      }
      // With RESULT_STORE=s3 nothing stays on the conductor's disk: the archive is where the results are.
      const storedAt = extractedAt ?? archive;
      await this.workers.appendEvent(worker.id, 'results-uploaded', { bytes, sha256, storedAt, archive });
      await this.workers.touch(worker.id);
      return { receivedBytes: bytes, storedAt };
    } catch (error) {
      await receiver.abort();
      throw error;
    } finally {
      await this.results.discard(incoming);
      if (discardAlso) await this.results.discard(discardAlso);
    }
  }

  private async ensureNotEnded(workerId: string): Promise<void> {
    const current = await this.workers.findById(workerId);
    if (!current || current.state === 'ended') {
      throw rpcError(status.FAILED_PRECONDITION, `worker ${workerId} has ended; its upload was discarded`);
    }
  }

  private failure(error: unknown): RpcException {
    const failure = toRpcException(error);
    if (describeRpc(failure).code === status.INTERNAL) {
      this.logger.error(`UploadResults failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return failure;
  }
}
