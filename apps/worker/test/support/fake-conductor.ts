import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ChunkReceiver,
  packDirectory,
  PROTO_LOADER_OPTIONS,
  protoRoot,
  readFileAsChunks,
  TransferError,
  WORKER_PROTO_FILE,
  WORKER_PROTO_PACKAGE,
  workerV1,
} from '@agent-conductor/contracts';

export interface FakeConductorOptions {
  workerId: string;
  /** The launch token: good for one Handshake, like the real conductor's. */
  token: string;
  /** Holds TASK.md and AGENTS.md; packed into the task archive. */
  taskDir: string;
  /** Where the fake keeps the task archive and the received upload. */
  scratchDir: string;
  repository: workerV1.RepositorySpec;
  /** A job over several repositories (docs/multi-repository.md); the first should repeat `repository`. */
  repositories?: workerV1.RepositorySpec[];
  /** The first this-many Handshake calls answer UNAVAILABLE, like a conductor that is restarting. */
  unavailableHandshakes?: number;
  /** The first this-many UploadResults calls fail (UNAVAILABLE, or `uploadFailureCode`) once the header and a chunk arrived. */
  unavailableUploads?: number;
  uploadFailureCode?: status;
  /**
   * The first UploadResults kills the server mid-call (in-flight calls end CANCELLED, new ones meet a closed
   * port, ECONNREFUSED) and brings it back on the same port after this many ms: a conductor restart.
   */
  restartDuringUploadMs?: number;
  heartbeatIntervalMs?: number;
  maxUploadBytes?: number;
  /** What the handshake offers as earlier work on the repository. */
  earlierWork?: workerV1.EarlierWork[];
  /** A follow-up job: the pull request's branch and URL the handshake carries. */
  followUp?: workerV1.FollowUp;
  /** The route's token budget the handshake carries; 0 or unset: none. */
  maxTokens?: number;
  /** TLS for the fake's server; plaintext when left out. */
  serverCredentials?: ServerCredentials;
  /**
   * A read-only incident job's AWS sessions: the first is handed over at handshake, each RefreshAgentCredentials
   * answers the next (PERMISSION_DENIED once they run out, or when none were given).
   */
  agentAwsSessions?: workerV1.AgentAwsCredentials[];
  /**
   * A grouped incident job's other accounts' sessions, per call: [0] at handshake, [n] at the n-th refresh. A refresh
   * with neither an own nor another session left answers PERMISSION_DENIED.
   */
  otherAccountAwsSessions?: workerV1.AgentAwsCredentials[][];
  /** RefreshAgentCredentials answers only once this settles: lets a test look at the first session first. */
  agentAwsRefreshGate?: Promise<void>;
}

export interface RecordedCall {
  method: string;
  credentials: workerV1.WorkerCredentials | undefined;
  at: number;
}

/** A real gRPC WorkerService on loopback that records what the worker does and checks its credentials. */
export class FakeConductor {
  readonly calls: RecordedCall[] = [];
  readonly heartbeats: workerV1.HeartbeatRequest[] = [];
  readonly agentErrors: workerV1.ReportAgentErrorRequest[] = [];
  shutdownRequest: workerV1.ShutdownRequest | undefined;
  uploadHeader: workerV1.UploadHeader | undefined;
  /** What heartbeats answer as stop_requested; a test sets it to cancel the job mid-run. */
  stopRequested = false;
  /** The received result archive, once an upload completed. */
  uploadPath: string | undefined;
  readonly rejected: string[] = [];
  /** What the handshake issued; every later call must carry it. */
  readonly sessionToken = `session-${randomBytes(16).toString('hex')}`;
  /** UploadResults calls that reached the fake, failed ones included. */
  uploadAttempts = 0;
  /** When each RefreshAgentCredentials arrived. */
  readonly agentAwsRefreshes: number[] = [];
  address = '';

  private server = new Server();
  private restartPending: boolean;
  private taskArchive = { path: '', bytes: 0, sha256: '' };
  private unavailableLeft: number;
  private unavailableUploadsLeft: number;
  private handshaken = false;

  constructor(private readonly options: FakeConductorOptions) {
    this.unavailableLeft = options.unavailableHandshakes ?? 0;
    this.unavailableUploadsLeft = options.unavailableUploads ?? 0;
    this.restartPending = options.restartDuringUploadMs !== undefined;
  }

  async start(): Promise<this> {
    const path = join(this.options.scratchDir, 'task.tar.gz');
    this.taskArchive = { path, ...(await packDirectory(this.options.taskDir, path)) };
    this.address = `127.0.0.1:${await this.listen('127.0.0.1:0')}`;
    return this;
  }

  private async listen(address: string): Promise<number> {
    const definition = loadSync(WORKER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const service = definition[`${WORKER_PROTO_PACKAGE}.WorkerService`] as ServiceDefinition;
    const implementation: UntypedServiceImplementation = {
      Handshake: this.handshake.bind(this),
      DownloadTaskFiles: this.downloadTaskFiles.bind(this),
      UploadResults: this.uploadResults.bind(this),
      ReportAgentError: this.reportAgentError.bind(this),
      Heartbeat: this.heartbeat.bind(this),
      Shutdown: this.shutdown.bind(this),
      RefreshAgentCredentials: this.refreshAgentCredentials.bind(this),
    };
    this.server = new Server();
    this.server.addService(service, implementation);
    return new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, this.options.serverCredentials ?? ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  }

  /** Drops every connection and call at once, like a killed process, and listens again after downMs. */
  private restart(downMs: number): void {
    this.server.forceShutdown();
    setTimeout(() => void this.listen(this.address), downMs);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  methods(): string[] {
    return this.calls.map((call) => call.method);
  }

  private authorised(method: string, credentials: workerV1.WorkerCredentials | undefined): boolean {
    this.calls.push({ method, credentials, at: Date.now() });
    // Handshake takes the launch token once; everything else only the session token.
    const expected = method === 'Handshake' ? (this.handshaken ? undefined : this.options.token) : this.handshaken ? this.sessionToken : undefined;
    const ok = expected !== undefined && credentials?.workerId === this.options.workerId && credentials.token === expected;
    if (!ok) this.rejected.push(method);
    return ok;
  }

  private handshake(call: ServerUnaryCall<workerV1.HandshakeRequest, workerV1.HandshakeResponse>, callback: sendUnaryData<workerV1.HandshakeResponse>): void {
    if (!this.authorised('Handshake', call.request.credentials)) return callback({ code: status.UNAUTHENTICATED, details: 'bad credentials' });
    if (this.unavailableLeft > 0) {
      this.unavailableLeft -= 1;
      return callback({ code: status.UNAVAILABLE, details: 'conductor restarting' });
    }
    this.handshaken = true;
    callback(null, {
      jobId: 'job-1',
      jobKind: workerV1.JobKind.JOB_KIND_TICKET,
      jobKey: 'ABC-12',
      attempt: 1,
      repository: this.options.repository,
      taskArchiveSize: this.taskArchive.bytes,
      taskArchiveSha256: this.taskArchive.sha256,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 100,
      maxUploadBytes: this.options.maxUploadBytes ?? 64 * 1024 * 1024,
      sessionToken: this.sessionToken,
      earlierWork: this.options.earlierWork ?? [],
      followUp: this.options.followUp,
      repositories: this.options.repositories ?? [],
      maxTokens: this.options.maxTokens ?? 0,
      agentAwsCredentials: this.options.agentAwsSessions?.[0],
      otherAccountAwsCredentials: this.options.otherAccountAwsSessions?.[0] ?? [],
    });
  }

  private refreshAgentCredentials(
    call: ServerUnaryCall<workerV1.RefreshAgentCredentialsRequest, workerV1.RefreshAgentCredentialsResponse>,
    callback: sendUnaryData<workerV1.RefreshAgentCredentialsResponse>,
  ): void {
    if (!this.authorised('RefreshAgentCredentials', call.request.credentials)) return callback({ code: status.UNAUTHENTICATED });
    this.agentAwsRefreshes.push(Date.now());
    const next = this.options.agentAwsSessions?.[this.agentAwsRefreshes.length];
    const others = this.options.otherAccountAwsSessions?.[this.agentAwsRefreshes.length] ?? [];
    void (this.options.agentAwsRefreshGate ?? Promise.resolve()).then(() =>
      next || others.length > 0
        ? callback(null, { agentAwsCredentials: next, otherAccountAwsCredentials: others })
        : callback({ code: status.PERMISSION_DENIED, details: 'no AWS access for this job' }),
    );
  }

  private async downloadTaskFiles(call: ServerWritableStream<workerV1.DownloadTaskFilesRequest, workerV1.DownloadTaskFilesResponse>): Promise<void> {
    if (!this.authorised('DownloadTaskFiles', call.request.credentials)) {
      call.destroy(Object.assign(new Error('bad credentials'), { code: status.UNAUTHENTICATED }));
      return;
    }
    for await (const chunk of readFileAsChunks(this.taskArchive.path)) call.write({ chunk });
    call.end();
  }

  private async uploadResults(call: ServerReadableStream<workerV1.UploadResultsRequest, workerV1.UploadResultsResponse>, callback: sendUnaryData<workerV1.UploadResultsResponse>): Promise<void> {
    const dest = join(this.options.scratchDir, 'upload.tar.gz');
    let receiver: ChunkReceiver | undefined;
    this.uploadAttempts += 1;
    try {
      for await (const message of call as AsyncIterable<workerV1.UploadResultsRequest>) {
        if (receiver && this.restartPending) {
          this.restartPending = false;
          await receiver.abort();
          this.restart(this.options.restartDuringUploadMs ?? 0);
          return;
        }
        if (receiver && this.unavailableUploadsLeft > 0) {
          this.unavailableUploadsLeft -= 1;
          await receiver.abort();
          return callback({ code: this.options.uploadFailureCode ?? status.UNAVAILABLE, details: 'connect ECONNREFUSED (conductor restarting)' });
        }
        if (!receiver) {
          if (!message.header || !this.authorised('UploadResults', message.header.credentials)) {
            return callback({ code: status.UNAUTHENTICATED, details: 'first message must be an authorised header' });
          }
          this.uploadHeader = message.header;
          receiver = new ChunkReceiver(dest, { maxBytes: this.options.maxUploadBytes ?? 64 * 1024 * 1024, expectedSha256: message.header.sha256, expectedSize: message.header.totalSize });
          continue;
        }
        if (!message.chunk) return callback({ code: status.INVALID_ARGUMENT, details: 'expected a chunk' });
        await receiver.accept(message.chunk);
      }
      if (!receiver) return callback({ code: status.INVALID_ARGUMENT, details: 'empty upload' });
      const received = await receiver.finish();
      this.uploadPath = dest;
      callback(null, { receivedBytes: received.bytes, storedAt: dest });
    } catch (error) {
      await receiver?.abort();
      const code = error instanceof TransferError ? status.INVALID_ARGUMENT : status.INTERNAL;
      callback({ code, details: error instanceof Error ? error.message : String(error) });
    }
  }

  private reportAgentError(call: ServerUnaryCall<workerV1.ReportAgentErrorRequest, workerV1.ReportAgentErrorResponse>, callback: sendUnaryData<workerV1.ReportAgentErrorResponse>): void {
    if (!this.authorised('ReportAgentError', call.request.credentials)) return callback({ code: status.UNAUTHENTICATED });
    this.agentErrors.push(call.request);
    callback(null, {});
  }

  private heartbeat(call: ServerUnaryCall<workerV1.HeartbeatRequest, workerV1.HeartbeatResponse>, callback: sendUnaryData<workerV1.HeartbeatResponse>): void {
    if (!this.authorised('Heartbeat', call.request.credentials)) return callback({ code: status.UNAUTHENTICATED });
    this.heartbeats.push(call.request);
    callback(null, { stopRequested: this.stopRequested });
  }

  private shutdown(call: ServerUnaryCall<workerV1.ShutdownRequest, workerV1.ShutdownResponse>, callback: sendUnaryData<workerV1.ShutdownResponse>): void {
    if (!this.authorised('Shutdown', call.request.credentials)) return callback({ code: status.UNAUTHENTICATED });
    this.shutdownRequest = call.request;
    callback(null, {});
  }
}

/**
 * The files a FakeConductor serves, laid out under `root`: its task dir (TASK.md, AGENTS.md) and its scratch dir.
 */
export async function writeTaskFiles(root: string, files: { task: string; agents?: string }): Promise<{ taskDir: string; scratchDir: string }> {
  const taskDir = join(root, 'task');
  const scratchDir = join(root, 'conductor');
  await mkdir(taskDir);
  await mkdir(scratchDir);
  await writeFile(join(taskDir, 'TASK.md'), files.task);
  await writeFile(join(taskDir, 'AGENTS.md'), files.agents ?? '# Working agreement\n');
  return { taskDir, scratchDir };
}
