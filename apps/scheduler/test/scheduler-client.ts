import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, schedulerV1 } from '@agent-conductor/contracts';
import { credentials, makeGenericClientConstructor, MethodDefinition, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

type SubmitMessage = MethodDefinition<schedulerV1.SubmitMessageRequest, schedulerV1.SubmitMessageResponse>;

/** A plain grpc-js client, as the conductor (or any other language) would build it from the .proto. */
export class SchedulerTestClient {
  private readonly method: SubmitMessage;
  private readonly client;

  constructor(address: string) {
    const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const service = definition['agentconductor.scheduler.v1.SchedulerService'] as ServiceDefinition;
    this.method = service['SubmitMessage'] as SubmitMessage;
    const Client = makeGenericClientConstructor(service, 'SchedulerService');
    this.client = new Client(address, credentials.createInsecure());
  }

  submitMessage(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        this.method.path,
        this.method.requestSerialize,
        this.method.responseDeserialize,
        request,
        (error: ServiceError | null, response?: schedulerV1.SubmitMessageResponse) => {
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
