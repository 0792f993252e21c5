import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, SCHEDULER_PROTO_PACKAGE, schedulerV1 } from '@agent-conductor/contracts';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { z } from 'zod';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

const decisionSchema = z.object({
  jobId: z.string(),
  kind: z.number().int(),
  key: z.string(),
  repository: z.string(),
});

const responseSchema = z.object({
  deliveryId: z.string(),
  classification: z.number().int(),
  rejectionReason: z.string(),
  duplicate: z.boolean(),
  decisions: z.array(decisionSchema),
});

const outcomeSchema = z.object({
  messageId: z.string(),
  response: responseSchema.nullish(),
  error: z.object({ code: z.number().int(), message: z.string() }).nullish(),
});

const batchResponseSchema = z.object({ outcomes: z.array(outcomeSchema) });

/** The scheduler's answer did not have the shape the contract promises. */
export class SchedulerProtocolError extends Error {}

/**
 * One message of a batch that the scheduler refused or failed to commit. It carries the gRPC status code a
 * SubmitMessage call would have failed with, so callers tell an outage from a bad message the same way for both.
 */
export class SchedulerMessageError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'SchedulerMessageError';
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && 'code' in error && typeof error.code === 'number';
}

/** What the scheduler did with one message of a SubmitMessages batch. */
export type SubmitOutcome = { messageId: string; response: schedulerV1.SubmitMessageResponse } | { messageId: string; error: SchedulerMessageError };

type SchedulerMethod = 'SubmitMessage' | 'SubmitMessages';

function loadMethod(name: SchedulerMethod): MethodDefinition<object, object> {
  const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${SCHEDULER_PROTO_PACKAGE}.${schedulerV1.SCHEDULER_SERVICE_NAME}`];
  const method = service && name in service ? (service as Record<string, unknown>)[name] : undefined;
  if (typeof method !== 'object' || method === null || !('path' in method)) throw new Error(`SchedulerService.${name} is missing from the scheduler proto`);
  return method as MethodDefinition<object, object>;
}

/** Client of the scheduler's gRPC SubmitMessage and SubmitMessages; every call has a deadline. */
@Injectable()
export class SchedulerClient implements OnModuleDestroy {
  private readonly submitOne = loadMethod('SubmitMessage');
  private readonly submitBatch = loadMethod('SubmitMessages');
  private readonly client: Client;

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'schedulerGrpcAddr' | 'schedulerCallTimeoutMs'>) {
    this.client = new Client(config.schedulerGrpcAddr, credentials.createInsecure());
  }

  async submitMessage(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    const response = await this.call(this.submitOne, request);
    const parsed = responseSchema.safeParse(response);
    if (!parsed.success) throw new SchedulerProtocolError(`unexpected SubmitMessage response: ${parsed.error.message}`);
    return parsed.data;
  }

  /**
   * Several messages in one call, with an outcome for each, in request order. The call itself fails only when the
   * scheduler did not answer (or answered out of contract): then no message has an outcome.
   */
  async submitMessages(requests: schedulerV1.SubmitMessageRequest[]): Promise<SubmitOutcome[]> {
    let response: object | undefined;
    try {
      response = await this.call(this.submitBatch, { messages: requests });
    } catch (error) {
      // A scheduler from before SubmitMessages (both services roll at once on a deploy): one call per message.
      if (isServiceError(error) && error.code === status.UNIMPLEMENTED) return this.submitOneByOne(requests);
      throw error;
    }
    const parsed = batchResponseSchema.safeParse(response);
    if (!parsed.success) throw new SchedulerProtocolError(`unexpected SubmitMessages response: ${parsed.error.message}`);
    const { outcomes } = parsed.data;
    if (outcomes.length !== requests.length) {
      throw new SchedulerProtocolError(`SubmitMessages answered ${outcomes.length} outcome(s) for ${requests.length} message(s)`);
    }
    return outcomes.map((outcome, index): SubmitOutcome => {
      const sent = requests[index]?.messageId;
      if (outcome.messageId !== sent) {
        throw new SchedulerProtocolError(`SubmitMessages answered message ${outcome.messageId} in the place of ${sent ?? 'none'}`);
      }
      if (outcome.response) return { messageId: outcome.messageId, response: outcome.response };
      if (outcome.error) return { messageId: outcome.messageId, error: new SchedulerMessageError(outcome.error.code, outcome.error.message) };
      throw new SchedulerProtocolError(`SubmitMessages answered neither a response nor an error for message ${outcome.messageId}`);
    });
  }

  private submitOneByOne(requests: schedulerV1.SubmitMessageRequest[]): Promise<SubmitOutcome[]> {
    return Promise.all(
      requests.map(async (request): Promise<SubmitOutcome> => {
        try {
          return { messageId: request.messageId, response: await this.submitMessage(request) };
        } catch (error) {
          // A protocol error has no gRPC code: count it as the scheduler's failure, as a batch answer out of contract is.
          const code = isServiceError(error) ? error.code : status.INTERNAL;
          return { messageId: request.messageId, error: new SchedulerMessageError(code, error instanceof Error ? error.message : String(error)) };
        }
      }),
    );
  }

  private call(method: MethodDefinition<object, object>, request: object): Promise<object | undefined> {
    const deadline = new Date(Date.now() + this.config.schedulerCallTimeoutMs);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new Metadata(),
        { deadline },
        (error: ServiceError | null, response?: object) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  onModuleDestroy(): void {
    this.client.close();
  }
}
