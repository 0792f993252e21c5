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
  /** The message ids of each SubmitMessages call, in the order the calls came. */
  readonly batches: string[][];
  stop(): Promise<void>;
}

export interface FakeSchedulerOptions {
  port?: number;
  /** The status of a failure that is not a SchedulerStatusError (default INTERNAL, what a failed commit answers). */
  defaultErrorCode?: status;
  /** Added before each answer, e.g. so that a latency histogram sees a non-zero round trip. */
  latencyMs?: number;
  /** Serve SubmitMessage only, as a scheduler from before SubmitMessages did (default false). */
  withoutBatches?: boolean;
}

/**
 * A scheduler over real gRPC whose answers each test decides per message (the real one is apps/scheduler). It
 * serves SubmitMessage and SubmitMessages; in a batch each message gets its own answer or error, as the real one
 * gives them. Errors go back as `defaultErrorCode` unless they are SchedulerStatusError.
 */
export async function startFakeScheduler(submit: { current: Submit }, options: FakeSchedulerOptions = {}): Promise<FakeScheduler> {
  const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${SCHEDULER_PROTO_PACKAGE}.SchedulerService`];
  if (!service || 'format' in service) throw new Error('SchedulerService missing');
  const errorCode = (error: unknown): status => (error instanceof SchedulerStatusError ? error.code : (options.defaultErrorCode ?? status.INTERNAL));
  const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  const latency = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, options.latencyMs ?? 0));
  const batches: string[][] = [];
  const server = new Server();
  const implementation: UntypedServiceImplementation = {
    SubmitMessage: (call: ServerUnaryCall<schedulerV1.SubmitMessageRequest, schedulerV1.SubmitMessageResponse>, callback: sendUnaryData<schedulerV1.SubmitMessageResponse>) => {
      void latency()
        .then(() => submit.current(call.request))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback({ code: errorCode(error), details: errorText(error) }),
        );
    },
    SubmitMessages: (call: ServerUnaryCall<schedulerV1.SubmitMessagesRequest, schedulerV1.SubmitMessagesResponse>, callback: sendUnaryData<schedulerV1.SubmitMessagesResponse>) => {
      batches.push(call.request.messages.map((message) => message.messageId));
      void latency()
        .then(() => Promise.allSettled(call.request.messages.map((message) => submit.current(message))))
        .then((settled) =>
          callback(null, {
            outcomes: settled.map((result, index) => {
              const messageId = call.request.messages[index]?.messageId ?? '';
              return result.status === 'fulfilled'
                ? { messageId, response: result.value }
                : { messageId, error: { code: errorCode(result.reason), message: errorText(result.reason) } };
            }),
          }),
        );
    },
  };
  if (options.withoutBatches) delete implementation['SubmitMessages'];
  server.addService(service, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
  );
  return {
    address: `127.0.0.1:${bound}`,
    batches,
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
