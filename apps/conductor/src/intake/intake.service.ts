import { createSqsClient, SqsIntakeConsumer, type IntakeMessage } from '@agent-conductor/aws';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { schedulerV1 } from '@agent-conductor/contracts';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JobLaunchService } from '../launch/job-launch.service';
import { SchedulerClient } from '../scheduler-client/scheduler-client.service';
import type { IntakeControl } from './intake-control';

/**
 * Moves queue messages to the scheduler and hands its decisions to the
 * launcher. A message is deleted from SQS only after the scheduler committed
 * it; if the scheduler is unreachable the handler throws and the message
 * comes back after its visibility timeout.
 *
 * Rejected messages are deleted too: the scheduler stored them with
 * deliveries.rejection_reason, which is where an operator looks. The DLQ is
 * kept for infrastructure failures (a message the scheduler never took).
 */
@Injectable()
export class IntakeService implements IntakeControl, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IntakeService.name);
  private readonly consumer: SqsIntakeConsumer;
  private readonly sqs: SQSClient;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    private readonly scheduler: SchedulerClient,
    private readonly launches: JobLaunchService,
  ) {
    const sqs = (this.sqs = createSqsClient({ region: config.awsRegion, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) }));
    this.consumer = new SqsIntakeConsumer({
      sqs,
      queueUrl: config.sqsQueueUrl,
      handle: (message) => this.handle(message),
      logger: this.logger,
    });
  }

  get isRunning(): boolean {
    return this.consumer.isRunning;
  }

  get inFlight(): number {
    return this.consumer.inFlight;
  }

  get lastReceiveError(): string | undefined {
    return this.consumer.lastReceiveError?.message;
  }

  onApplicationBootstrap(): void {
    this.consumer.start();
    this.logger.log(`receiving from ${this.config.sqsQueueUrl}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    this.sqs.destroy();
  }

  /** New messages pool in SQS meanwhile. */
  async drain(): Promise<void> {
    await this.consumer.stop({ drainTimeoutMs: this.config.schedulerCallTimeoutMs * 2 });
  }

  async handle(message: IntakeMessage): Promise<void> {
    const response = await this.scheduler.submitMessage({
      messageId: message.messageId,
      body: message.body,
      receivedAt: message.receivedAt.toISOString(),
    });
    if (response.classification === schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED) {
      this.logger.warn(`message ${message.messageId} rejected (delivery ${response.deliveryId}): ${response.rejectionReason}`);
      return;
    }
    if (response.duplicate) {
      this.logger.log(`message ${message.messageId} was already submitted (delivery ${response.deliveryId})`);
    }
    // A duplicate's decisions are launched again on purpose: the claim is a no-op for a job that
    // already left `pending`, and it launches one the first delivery never got to.
    for (const decision of response.decisions) {
      this.launches.launchInBackground(decision.jobId);
    }
  }
}
