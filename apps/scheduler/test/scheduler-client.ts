import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, schedulerV1 } from '@agent-conductor/contracts';
import { credentials, makeGenericClientConstructor, MethodDefinition, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

type SubmitMessage = MethodDefinition<schedulerV1.SubmitMessageRequest, schedulerV1.SubmitMessageResponse>;
type SubmitMessages = MethodDefinition<schedulerV1.SubmitMessagesRequest, schedulerV1.SubmitMessagesResponse>;

/** A plain grpc-js client, as the conductor (or any other language) would build it from the .proto. */
export class SchedulerTestClient {
  private readonly method: SubmitMessage;
  private readonly batchMethod: SubmitMessages;
  private readonly client;

  constructor(address: string) {
    const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const service = definition['agentconductor.scheduler.v1.SchedulerService'] as ServiceDefinition;
    this.method = service['SubmitMessage'] as SubmitMessage;
    this.batchMethod = service['SubmitMessages'] as SubmitMessages;
    const Client = makeGenericClientConstructor(service, 'SchedulerService');
    this.client = new Client(address, credentials.createInsecure());
  }

  submitMessage(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    return this.call(this.method, request);
  }

  submitMessages(request: schedulerV1.SubmitMessagesRequest): Promise<schedulerV1.SubmitMessagesResponse> {
    return this.call(this.batchMethod, request);
  }

  private call<Request, Response>(method: MethodDefinition<Request, Response>, request: Request): Promise<Response> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        (error: ServiceError | null, response?: Response) => {
          if (error) {
            reject(error);
          } else if (!response) {
            reject(new Error('empty response'));
          } else {
            resolve(response);
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
