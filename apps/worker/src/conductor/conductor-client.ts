import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions, Client, status, type ClientWritableStream, Metadata, type MethodDefinition, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { once } from 'node:events';
import {
  ChunkReceiver,
  PROTO_LOADER_OPTIONS,
  protoRoot,
  readFileAsChunks,
  redactSecrets,
  WORKER_PROTO_FILE,
  WORKER_PROTO_PACKAGE,
  workerV1,
} from '@agent-conductor/contracts';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { retryWhileTransient, type RetryPolicy } from './retry';

const UNARY_DEADLINE_MS = 30_000;
const STREAM_DEADLINE_MS = 30 * 60_000;

type MethodName = 'Handshake' | 'DownloadTaskFiles' | 'UploadResults' | 'ReportAgentError' | 'Heartbeat' | 'Shutdown' | 'RefreshAgentCredentials';

/**
 * grpc-js backs off reconnecting up to 120 s, and while it waits every call fails at once without trying: a worker
 * that lost its conductor to a deploy would sit out the new one's first two minutes, heartbeats failing, however short
 * retryWhileTransient's own delays are. Capped near those delays, it finds the new conductor within seconds.
 */
export const RECONNECT_OPTIONS: ChannelOptions = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 4_000 };

/** Plaintext by default; with CONDUCTOR_TLS_CA, TLS that accepts only a conductor certificate that CA signed. */
export function conductorChannel(config: Pick<WorkerConfig, 'conductorTls'>): [ChannelCredentials, ChannelOptions] {
  const tls = config.conductorTls;
  if (!tls) return [grpcCredentials.createInsecure(), RECONNECT_OPTIONS];
  const options: ChannelOptions = tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
  return [grpcCredentials.createSsl(tls.ca), { ...RECONNECT_OPTIONS, ...options }];
}

/** Requests as the caller writes them: the client adds the credentials. */
type WithoutCredentials<T> = Omit<T, 'credentials'>;

/** The worker's only line to the conductor: typed WorkerService calls that retry while the conductor is UNAVAILABLE. */
@Injectable()
export class ConductorClient implements OnModuleDestroy {
  private readonly logger = new Logger(ConductorClient.name);
  private readonly client: Client;
  private readonly service: ServiceDefinition;
  private readonly retryPolicy: RetryPolicy;
  /**
   * What Handshake exchanged the launch token for. Only here, in memory: the
   * launch token sits in the process environment, where the agent can read it,
   * and is dead once this is set.
   */
  private sessionToken: string | undefined;

  constructor(@Inject(WORKER_CONFIG) private readonly config: WorkerConfig) {
    const definition = loadSync(WORKER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const service = definition[`${WORKER_PROTO_PACKAGE}.WorkerService`];
    if (!service || !('Handshake' in service)) {
      throw new Error(`${WORKER_PROTO_PACKAGE}.WorkerService is missing from ${WORKER_PROTO_FILE}`);
    }
    this.service = service as ServiceDefinition;
    this.client = new Client(config.conductorAddress, ...conductorChannel(config));
    this.retryPolicy = { windowMs: config.conductorRetryWindowMs, initialDelayMs: 250, maxDelayMs: 8_000 };
  }

  onModuleDestroy(): void {
    this.client.close();
  }

  async handshake(request: WithoutCredentials<workerV1.HandshakeRequest>): Promise<workerV1.HandshakeResponse> {
    const response = await this.retrying('Handshake', () =>
      this.unary<workerV1.HandshakeRequest, workerV1.HandshakeResponse>('Handshake', {
        ...request,
        credentials: { workerId: this.config.workerId, token: this.config.token },
      }),
    );
    if (response.sessionToken === '') throw new Error('the conductor issued no session token');
    this.sessionToken = response.sessionToken;
    return response;
  }

  async heartbeat(phase: workerV1.WorkerPhase): Promise<workerV1.HeartbeatResponse> {
    // No retry loop: the next tick is the retry, and a heartbeat must not pile up behind a dead conductor.
    return this.unary<workerV1.HeartbeatRequest, workerV1.HeartbeatResponse>('Heartbeat', { credentials: this.credentials(), phase });
  }

  /** No retry loop: the caller retries on its own schedule, before the session it holds expires. */
  refreshAgentCredentials(): Promise<workerV1.RefreshAgentCredentialsResponse> {
    return this.unary<workerV1.RefreshAgentCredentialsRequest, workerV1.RefreshAgentCredentialsResponse>('RefreshAgentCredentials', { credentials: this.credentials() });
  }

  /** The message often carries the agent's own output: it is redacted here, on its way into the conductor's database. */
  reportAgentError(stage: string, message: string): Promise<workerV1.ReportAgentErrorResponse> {
    const redacted = this.redact(message);
    return this.retrying('ReportAgentError', () =>
      this.unary<workerV1.ReportAgentErrorRequest, workerV1.ReportAgentErrorResponse>('ReportAgentError', { credentials: this.credentials(), stage, message: redacted }),
    );
  }

  shutdown(request: WithoutCredentials<workerV1.ShutdownRequest>): Promise<workerV1.ShutdownResponse> {
    // The error and the result's title and report are the agent's words too.
    const result = request.result ? { ...request.result, title: this.redact(request.result.title), report: this.redact(request.result.report) } : undefined;
    const redacted = { ...request, error: this.redact(request.error), result };
    return this.retrying('Shutdown', () => this.unary<workerV1.ShutdownRequest, workerV1.ShutdownResponse>('Shutdown', { ...redacted, credentials: this.credentials() }));
  }

  private redact(text: string): string {
    return redactSecrets(text, [...workerSecrets(this.config), ...(this.sessionToken ? [this.sessionToken] : [])]);
  }

  /** Streams the task archive to destPath, verified against what the handshake announced. */
  downloadTaskFiles(destPath: string, expected: { size: number; sha256: string; maxBytes: number }): Promise<{ bytes: number; sha256: string }> {
    return this.retrying('DownloadTaskFiles', async () => {
      const receiver = new ChunkReceiver(destPath, { maxBytes: expected.maxBytes, expectedSize: expected.size, expectedSha256: expected.sha256 });
      const method = this.method<workerV1.DownloadTaskFilesRequest, workerV1.DownloadTaskFilesResponse>('DownloadTaskFiles');
      const call = this.client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { credentials: this.credentials() },
        new Metadata(),
        { deadline: Date.now() + STREAM_DEADLINE_MS },
      );
      try {
        for await (const message of call as AsyncIterable<workerV1.DownloadTaskFilesResponse>) {
          if (!message.chunk) throw new Error('DownloadTaskFiles sent a message without a chunk');
          await receiver.accept(message.chunk);
        }
        return await receiver.finish();
      } catch (error) {
        call.cancel();
        await receiver.abort();
        throw error;
      }
    });
  }

  /** Streams a result archive: the header, then its chunks. */
  uploadResults(archivePath: string, archive: { bytes: number; sha256: string }): Promise<workerV1.UploadResultsResponse> {
    return this.retrying('UploadResults', async () => {
      const method = this.method<workerV1.UploadResultsRequest, workerV1.UploadResultsResponse>('UploadResults');
      let call: ClientWritableStream<workerV1.UploadResultsRequest> | undefined;
      const response = new Promise<workerV1.UploadResultsResponse>((resolve, reject) => {
        call = this.client.makeClientStreamRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          new Metadata(),
          { deadline: Date.now() + STREAM_DEADLINE_MS },
          (error: ServiceError | null, value?: workerV1.UploadResultsResponse) => (error || !value ? reject(error ?? new Error('UploadResults returned nothing')) : resolve(value)),
        );
      });
      const stream = call;
      if (!stream) throw new Error('UploadResults call was not created');
      // The conductor may answer (e.g. RESOURCE_EXHAUSTED) before the stream ends; stop writing then.
      const failed = response.then(
        () => new Promise<never>(() => undefined),
        (error: unknown) => Promise.reject(error),
      );
      failed.catch(() => undefined);
      const write = async (message: workerV1.UploadResultsRequest): Promise<void> => {
        if (!stream.write(message)) {
          await Promise.race([once(stream, 'drain'), failed]);
        }
      };
      try {
        await write({ header: { credentials: this.credentials(), totalSize: archive.bytes, sha256: archive.sha256 } });
        for await (const chunk of readFileAsChunks(archivePath)) {
          await write({ chunk });
        }
        stream.end();
      } catch (error) {
        stream.cancel();
        await response.catch(() => undefined);
        throw error;
      }
      return response;
    });
  }

  /** The session token's credentials: every call but Handshake needs them. */
  private credentials(): workerV1.WorkerCredentials {
    if (this.sessionToken === undefined) throw new Error('no session with the conductor: Handshake first');
    return { workerId: this.config.workerId, token: this.sessionToken };
  }

  private retrying<T>(name: MethodName, operation: () => Promise<T>): Promise<T> {
    return retryWhileTransient(this.retryPolicy, operation, (attempt, delayMs, error) => {
      this.logger.warn(`${name}: conductor unreachable (attempt ${attempt}: ${describeCode(error)}); retrying in ${delayMs} ms`);
    });
  }

  private method<Req, Res>(name: MethodName): { path: string; requestSerialize: (value: Req) => Buffer; responseDeserialize: (bytes: Buffer) => Res } {
    const definition: MethodDefinition<object, object> | undefined = this.service[name];
    if (!definition) throw new Error(`WorkerService has no method ${name}`);
    return {
      path: definition.path,
      requestSerialize: (value: Req) => definition.requestSerialize(value as object),
      responseDeserialize: (bytes: Buffer) => definition.responseDeserialize(bytes) as Res,
    };
  }

  private unary<Req, Res>(name: MethodName, request: Req): Promise<Res> {
    const method = this.method<Req, Res>(name);
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest<Req, Res>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + UNARY_DEADLINE_MS },
        (error, value) => (error || value === undefined ? reject(error ?? new Error(`${name} returned nothing`)) : resolve(value)),
      );
    });
  }
}

/** The status name of a gRPC error (never its details, which may echo a request). */
function describeCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  return typeof code === 'number' ? (status[code] ?? String(code)) : 'no status';
}
