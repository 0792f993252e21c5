import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, SCHEDULER_PROTO_PACKAGE, schedulerV1 } from '@agent-conductor/contracts';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export type Submit = (request: schedulerV1.SubmitMessageRequest) => Promise<schedulerV1.SubmitMessageResponse>;

/** A failure the fake answers with a chosen gRPC status (a real scheduler answers INTERNAL when its commit fails). */
export class SchedulerStatusError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeScheduler {
  address: string;
  stop(): Promise<void>;
}

/**
 * A scheduler over real gRPC whose answers each test decides (the real one is apps/scheduler).
 * Errors go back as INTERNAL unless they are SchedulerStatusError.
 */
export async function startFakeScheduler(submit: { current: Submit }, port = 0): Promise<FakeScheduler> {
  const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${SCHEDULER_PROTO_PACKAGE}.SchedulerService`];
  if (!service || 'format' in service) throw new Error('SchedulerService missing');
  const server = new Server();
  const implementation: UntypedServiceImplementation = {
    SubmitMessage: (call: ServerUnaryCall<schedulerV1.SubmitMessageRequest, schedulerV1.SubmitMessageResponse>, callback: sendUnaryData<schedulerV1.SubmitMessageResponse>) => {
      submit.current(call.request).then(
        (response) => callback(null, response),
        (error: unknown) =>
          callback({
            code: error instanceof SchedulerStatusError ? error.code : status.INTERNAL,
            details: error instanceof Error ? error.message : String(error),
          }),
      );
    },
  };
  server.addService(service, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
  );
  return {
    address: `127.0.0.1:${bound}`,
    stop: () =>
      new Promise((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** A ticket answer without decisions: enough for the intake to delete the message. */
export function acceptedTicket(deliveryId: string): schedulerV1.SubmitMessageResponse {
  return {
    deliveryId,
    classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
    rejectionReason: '',
    duplicate: false,
    decisions: [],
  };
}
