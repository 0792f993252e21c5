import { PROTO_LOADER_OPTIONS, protoRoot, SCHEDULER_PROTO_FILE, SCHEDULER_PROTO_PACKAGE, schedulerV1 } from '@agent-conductor/contracts';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
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

/** The scheduler's answer did not have the shape the contract promises. */
export class SchedulerProtocolError extends Error {}

function loadSubmitMessage(): MethodDefinition<object, object> {
  const definition = loadSync(SCHEDULER_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const service = definition[`${SCHEDULER_PROTO_PACKAGE}.${schedulerV1.SCHEDULER_SERVICE_NAME}`];
  const method = service && 'SubmitMessage' in service ? service['SubmitMessage'] : undefined;
  if (!method || !('path' in method)) throw new Error('SchedulerService.SubmitMessage is missing from the scheduler proto');
  return method as MethodDefinition<object, object>;
}

/** Client of the scheduler's gRPC SubmitMessage; every call has a deadline. */
@Injectable()
export class SchedulerClient implements OnModuleDestroy {
  private readonly method = loadSubmitMessage();
  private readonly client: Client;

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {
    this.client = new Client(config.schedulerGrpcAddr, credentials.createInsecure());
  }

  submitMessage(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    const deadline = new Date(Date.now() + this.config.schedulerCallTimeoutMs);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<object, object>(
        this.method.path,
        this.method.requestSerialize,
        this.method.responseDeserialize,
        request,
        new Metadata(),
        { deadline },
        (error: ServiceError | null, response?: object) => {
          if (error) return reject(error);
          const parsed = responseSchema.safeParse(response);
          if (!parsed.success) return reject(new SchedulerProtocolError(`unexpected SubmitMessage response: ${parsed.error.message}`));
          resolve(parsed.data);
        },
      );
    });
  }

  onModuleDestroy(): void {
    this.client.close();
  }
}
