import { PROTO_LOADER_OPTIONS, protoRoot, WORKER_PROTO_FILE, WORKER_PROTO_PACKAGE, type workerV1 } from '@agent-conductor/contracts';
import { type ChannelCredentials, type ChannelOptions, Client, type ClientWritableStream, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';

type Method = MethodDefinition<object, object>;

export interface WorkerApiClientOptions {
  /** Plaintext when left out. */
  credentials?: ChannelCredentials;
  /** grpc-js channel options, e.g. a TLS name override or `grpc.use_local_subchannel_pool`. */
  options?: ChannelOptions;
  /** How long each call may take; tests keep it short, a loaded bench needs longer. */
  deadlineMs?: number;
}

let workerServiceMethods: Record<string, Method> | undefined;

/** Parsed once per process: a bench opens hundreds of clients. */
function loadWorkerServiceMethods(): Record<string, Method> {
  if (workerServiceMethods) return workerServiceMethods;
  const definition = loadSync(WORKER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${WORKER_PROTO_PACKAGE}.WorkerService`];
  if (!service || 'format' in service) throw new Error('WorkerService missing from the proto');
  workerServiceMethods = service as Record<string, Method>;
  return workerServiceMethods;
}

/**
 * A plain grpc-js client of the conductor's WorkerService, as a worker (or an
 * attacker) would dial it, without the worker's own code. Each instance has
 * its own channel.
 */
export class WorkerApiClient {
  private readonly methods = loadWorkerServiceMethods();
  private readonly client: Client;
  private readonly deadlineMs: number;

  constructor(address: string, options: WorkerApiClientOptions = {}) {
    this.client = new Client(address, options.credentials ?? credentials.createInsecure(), options.options ?? {});
    this.deadlineMs = options.deadlineMs ?? 15_000;
  }

  close(): void {
    this.client.close();
  }

  private method(name: string): Method {
    const method = this.methods[name];
    if (!method) throw new Error(`no method ${name}`);
    return method;
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.deadlineMs };
  }

  private unary<Res>(name: string, request: object): Promise<Res> {
    const method = this.method(name);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        this.deadline(),
        (error: ServiceError | null, response?: object) => (error ? reject(error) : resolve(response as Res)),
      );
    });
  }

  handshake(request: workerV1.HandshakeRequest): Promise<workerV1.HandshakeResponse> {
    return this.unary('Handshake', request);
  }

  heartbeat(request: workerV1.HeartbeatRequest): Promise<workerV1.HeartbeatResponse> {
    return this.unary('Heartbeat', request);
  }

  reportAgentError(request: workerV1.ReportAgentErrorRequest): Promise<workerV1.ReportAgentErrorResponse> {
    return this.unary('ReportAgentError', request);
  }

  refreshAgentCredentials(request: workerV1.RefreshAgentCredentialsRequest): Promise<workerV1.RefreshAgentCredentialsResponse> {
    return this.unary('RefreshAgentCredentials', request);
  }

  /** `usage` may be left out, as a worker whose agent never ran leaves it unset. */
  shutdown(request: Omit<workerV1.ShutdownRequest, 'usage'> & { usage?: workerV1.AgentUsage }): Promise<workerV1.ShutdownResponse> {
    return this.unary('Shutdown', request);
  }

  download(request: workerV1.DownloadTaskFilesRequest): Promise<workerV1.TransferChunk[]> {
    const method = this.method('DownloadTaskFiles');
    return new Promise((resolve, reject) => {
      const chunks: workerV1.TransferChunk[] = [];
      const call = this.client.makeServerStreamRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        this.deadline(),
      );
      call.on('data', (message: workerV1.DownloadTaskFilesResponse) => {
        if (message.chunk) chunks.push(message.chunk);
      });
      call.on('error', reject);
      call.on('end', () => resolve(chunks));
    });
  }

  /** An upload the caller writes message by message, to hold it open while other calls happen. */
  openUpload(): { send: (message: workerV1.UploadResultsRequest) => void; finish: () => Promise<workerV1.UploadResultsResponse> } {
    const method = this.method('UploadResults');
    let call: ClientWritableStream<object> | undefined;
    const response = new Promise<workerV1.UploadResultsResponse>((resolve, reject) => {
      call = this.client.makeClientStreamRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        new Metadata(),
        this.deadline(),
        (error: ServiceError | null, value?: object) => (error ? reject(error) : resolve(value as workerV1.UploadResultsResponse)),
      );
    });
    // An early answer is collected by finish(); until then it must not count as unhandled.
    response.catch(() => undefined);
    const stream = call;
    if (!stream) throw new Error('UploadResults call was not created');
    stream.on('error', () => undefined);
    return {
      send: (message) => void stream.write(message),
      finish: () => {
        stream.end();
        return response;
      },
    };
  }

  upload(messages: workerV1.UploadResultsRequest[]): Promise<workerV1.UploadResultsResponse> {
    const { send, finish } = this.openUpload();
    for (const message of messages) send(message);
    return finish();
  }
}
