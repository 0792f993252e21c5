import { errorMessage } from '@agent-conductor/scheduling-domain';
import { SqsIntakeConsumer, type IntakeMessage, type IntakeOutcome } from '@agent-conductor/aws';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { schedulerV1 } from '@agent-conductor/contracts';
import { PrismaService } from '@agent-conductor/db';
import { Client, credentials, status } from '@grpc/grpc-js';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JobLaunchService } from '../launch/job-launch.service';
import { ConductorMetrics } from '../metrics/conductor-metrics.service';
import { SchedulerClient, type SubmitOutcome } from '../scheduler-client/scheduler-client.service';
import type { IntakeControl } from './intake-control';
import { INTAKE_SQS } from './intake-sqs';

const PROBE_TIMEOUT_MS = 3000;

/** The scheduler did not answer at all (down, restarting, or too slow), as opposed to answering with an error. */
function schedulerUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  return error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

type IntakeState = 'idle' | 'receiving' | 'paused' | 'stopped';

/**
 * Moves queue messages to the scheduler and hands its decisions to the
 * launcher. Each receive (up to 10 messages) goes to the scheduler as one
 * SubmitMessages batch, with an outcome per message; up to SQS_MAX_IN_FLIGHT
 * messages are in hand at once. A message is deleted from SQS only after the
 * scheduler committed it; a message it did not commit (unreachable scheduler,
 * or a failure of that message alone) stays and comes back after its
 * visibility timeout, while its neighbours in the batch are deleted.
 *
 * Rejected messages are deleted too: the scheduler stored them with
 * deliveries.rejection_reason, which is where an operator looks. The DLQ is
 * kept for infrastructure failures (a message the scheduler never took).
 *
 * When a failure comes from a dependency every message needs (Postgres, the
 * scheduler), the intake pauses instead of cycling messages: each receive
 * counts towards the queue's maxReceiveCount, so receiving through an outage
 * would move healthy messages to the DLQ. It resumes by itself once both
 * answer again. A message that fails while they are healthy keeps cycling and
 * lands in the DLQ, as a poison message should.
 */
@Injectable()
export class IntakeService implements IntakeControl, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IntakeService.name);
  private readonly consumer: SqsIntakeConsumer;
  private readonly schedulerChannel: Client;
  private state: IntakeState = 'idle';
  private pause: { reason: string; since: Date; stopping: Promise<void> } | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private handlerError: string | undefined;
  /** From the queue's RedrivePolicy, to tell operators which failure is the last before the DLQ. */
  private maxReceiveCount: number | undefined;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    @Inject(INTAKE_SQS) private readonly sqs: SQSClient,
    private readonly scheduler: SchedulerClient,
    private readonly launches: JobLaunchService,
    private readonly prisma: PrismaService,
    private readonly metrics: ConductorMetrics,
  ) {
    this.consumer = new SqsIntakeConsumer({
      sqs,
      queueUrl: config.sqsQueueUrl,
      handleBatch: (messages) => this.handleBatch(messages),
      visibilityTimeoutSeconds: config.sqsVisibilityTimeoutSeconds,
      heartbeatIntervalSeconds: config.sqsVisibilityTimeoutSeconds / 3,
      waitTimeSeconds: config.sqsWaitTimeSeconds,
      maxInFlight: config.sqsMaxInFlight,
      logger: this.logger,
    });
    // A separate channel only for the reachability probe, so probing never disturbs real calls.
    this.schedulerChannel = new Client(config.schedulerGrpcAddr, credentials.createInsecure());
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

  get pausedReason(): string | undefined {
    return this.pause?.reason;
  }

  get lastHandlerError(): string | undefined {
    return this.handlerError;
  }

  onApplicationBootstrap(): void {
    this.state = 'receiving';
    this.consumer.start();
    this.logger.log(`receiving from ${this.config.sqsQueueUrl}`);
    void this.readRedrivePolicy();
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    this.schedulerChannel.close();
    // Only after the drain: the last deletes go out on this client.
    this.sqs.destroy();
  }

  /** Stops for good (shutdown); new messages pool in SQS meanwhile. */
  async drain(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.probeTimer);
    const pausing = this.pause?.stopping;
    this.pause = undefined;
    await pausing;
    await this.consumer.stop({ drainTimeoutMs: this.config.schedulerCallTimeoutMs * 2 });
  }

  /** One receive's messages to the scheduler in one SubmitMessages call; an outcome per message, in order. */
  async handleBatch(messages: IntakeMessage[]): Promise<IntakeOutcome[]> {
    let outcomes: SubmitOutcome[];
    try {
      outcomes = await this.metrics.observeSubmit(messages.length, () =>
        this.scheduler.submitMessages(
          messages.map((message) => ({ messageId: message.messageId, body: message.body, receivedAt: message.receivedAt.toISOString() })),
        ),
      );
    } catch (error) {
      // No message has an outcome: the scheduler did not answer, or answered out of contract.
      await this.failed(messages, error);
      return messages.map(() => ({ ok: false, error }));
    }
    let admit = false;
    const failures: Array<{ message: IntakeMessage; error: unknown }> = [];
    const results = outcomes.map((outcome, index): IntakeOutcome => {
      const message = messages[index];
      if (!message) return { ok: false, error: new Error('no such message') };
      if ('error' in outcome) {
        failures.push({ message, error: outcome.error });
        return { ok: false, error: outcome.error };
      }
      admit = this.accepted(message, outcome.response) || admit;
      return { ok: true };
    });
    // A duplicate's decisions count too: admission then starts a job the first delivery never got to, and a
    // pass changes nothing for jobs that already left `pending`.
    if (admit) this.launches.requestAdmission();
    // One failure that says the scheduler is unreachable speaks for the batch; otherwise the first one is probed.
    const telling = failures.find((failure) => schedulerUnreachable(failure.error)) ?? failures[0];
    if (telling) {
      await this.failed(
        failures.map((failure) => failure.message),
        telling.error,
      );
    } else {
      this.handlerError = undefined;
    }
    return results;
  }

  /** Logs what the scheduler did with a message it committed; true when it decided something to launch. */
  private accepted(message: IntakeMessage, response: schedulerV1.SubmitMessageResponse): boolean {
    if (response.classification === schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED) {
      this.logger.warn(`message ${message.messageId} rejected (delivery ${response.deliveryId}): ${response.rejectionReason}`);
      return false;
    }
    if (response.duplicate) {
      this.logger.log(`message ${message.messageId} was already submitted (delivery ${response.deliveryId})`);
    }
    return response.decisions.length > 0;
  }

  /**
   * Messages the scheduler did not commit stay on the queue. When the cause is one every message shares (the
   * scheduler or the database down), the intake pauses; otherwise they are these messages' own failures, and the
   * ones on their last receive are about to move to the dead-letter queue.
   */
  private async failed(messages: IntakeMessage[], error: unknown): Promise<void> {
    const [first] = messages;
    this.handlerError = `message ${first?.messageId ?? '?'}${messages.length > 1 ? ` and ${messages.length - 1} more` : ''}: ${errorMessage(error)}`;
    const outage = await this.findOutage(error);
    if (outage) {
      this.pauseFor(outage);
      return;
    }
    for (const message of messages) {
      if (this.maxReceiveCount !== undefined && message.receiveCount >= this.maxReceiveCount) {
        this.logger.error(
          `message ${message.messageId} failed on receive ${message.receiveCount} of ${this.maxReceiveCount} with the database and scheduler up; SQS moves it to the dead-letter queue`,
        );
      }
    }
  }

  /** Why every message would fail right now, or undefined when the failure is this message's own. */
  private async findOutage(error: unknown): Promise<string | undefined> {
    if (schedulerUnreachable(error)) return `scheduler at ${this.config.schedulerGrpcAddr} unreachable: ${errorMessage(error)}`;
    return this.probeDatabase();
  }

  private async probeDatabase(): Promise<string | undefined> {
    try {
      await withTimeout(this.prisma.$queryRaw`SELECT 1`, PROBE_TIMEOUT_MS, 'SELECT 1');
      return undefined;
    } catch (error) {
      return `database unreachable: ${errorMessage(error)}`;
    }
  }

  private probeScheduler(): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.schedulerChannel.waitForReady(Date.now() + PROBE_TIMEOUT_MS, (error) =>
        resolve(error ? `scheduler at ${this.config.schedulerGrpcAddr} unreachable: ${error.message}` : undefined),
      );
    });
  }

  private pauseFor(reason: string): void {
    if (this.state !== 'receiving') return;
    this.state = 'paused';
    this.logger.error(`pausing intake: ${reason}; messages stay on the queue until it answers again`);
    // Not awaited: this runs inside a handler, and stop() waits for every handler.
    const stopping = this.consumer.stop({ drainTimeoutMs: this.config.schedulerCallTimeoutMs * 2 });
    this.pause = { reason, since: new Date(), stopping };
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probe(), this.config.intakeProbeIntervalMs);
  }

  private async probe(): Promise<void> {
    if (this.state !== 'paused' || !this.pause) return;
    const down = (await this.probeDatabase()) ?? (await this.probeScheduler());
    if (this.state !== 'paused' || !this.pause) return;
    if (down) {
      this.pause.reason = down;
      this.scheduleProbe();
      return;
    }
    const { since, stopping } = this.pause;
    await stopping;
    if (this.state !== 'paused') return;
    this.state = 'receiving';
    this.pause = undefined;
    this.consumer.start();
    this.logger.log(`intake resumed after ${Date.now() - since.getTime()} ms paused`);
  }

  private async readRedrivePolicy(): Promise<void> {
    try {
      const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.config.sqsQueueUrl, AttributeNames: ['RedrivePolicy'] }));
      const policy = out.Attributes?.['RedrivePolicy'];
      if (!policy) {
        this.logger.warn(`${this.config.sqsQueueUrl} has no RedrivePolicy: a message that keeps failing is retried until it expires`);
        return;
      }
      const parsed: unknown = JSON.parse(policy);
      if (typeof parsed === 'object' && parsed !== null && 'maxReceiveCount' in parsed) {
        const count = Number(parsed.maxReceiveCount);
        if (Number.isInteger(count) && count > 0) this.maxReceiveCount = count;
      }
    } catch (error) {
      // Only an operator hint depends on it; IAM may well not grant GetQueueAttributes.
      this.logger.warn(`cannot read the queue's RedrivePolicy: ${errorMessage(error)}`);
    }
  }
}
