import { schedulerV1 } from '@agent-conductor/contracts';
import { RecordMessageResult, SchedulingService, SubmittedMessage } from '@agent-conductor/scheduling';
import { parseAwsTimestamp, errorMessage } from '@agent-conductor/scheduling-domain';
import { status } from '@grpc/grpc-js';
import { Injectable, Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { SchedulerMetrics } from '../metrics/scheduler-metrics.service';

const CLASSIFICATIONS: Record<RecordMessageResult['classification'], schedulerV1.MessageClassification> = {
  ticket: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
  alarm: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_ALARM,
  rejected: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
  update: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_UPDATE,
};

const SPAWN_KINDS: Record<RecordMessageResult['decisions'][number]['kind'], schedulerV1.SpawnKind> = {
  ticket: schedulerV1.SpawnKind.SPAWN_KIND_TICKET,
  incident: schedulerV1.SpawnKind.SPAWN_KIND_INCIDENT,
  'follow-up': schedulerV1.SpawnKind.SPAWN_KIND_FOLLOW_UP,
};

/** A request the scheduler cannot key or date: refused, and the caller keeps the message. */
class InvalidSubmission extends Error {}

@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly scheduling: SchedulingService,
    private readonly metrics: SchedulerMetrics,
  ) {}

  /**
   * Only a request the scheduler cannot key or date is refused; any body,
   * however broken, is stored (as rejected) so the conductor can delete it
   * from the queue.
   */
  async submit(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    let message: SubmittedMessage;
    try {
      message = toSubmittedMessage(request);
    } catch (error) {
      throw new RpcException({ code: status.INVALID_ARGUMENT, message: errorMessage(error) });
    }
    const result = await this.metrics.observeDecision(() => this.scheduling.submit(message));
    return this.answer(message.messageId, result);
  }

  /**
   * SubmitMessage for each message of a batch, with an outcome each: a message that is refused or fails to commit
   * gets its error (as SubmitMessage would have failed) and its neighbours are committed all the same.
   */
  async submitBatch(request: schedulerV1.SubmitMessagesRequest): Promise<schedulerV1.SubmitMessagesResponse> {
    const outcomes = new Array<schedulerV1.SubmitMessageOutcome>(request.messages.length);
    const accepted: Array<{ position: number; message: SubmittedMessage }> = [];
    request.messages.forEach((one, position) => {
      try {
        accepted.push({ position, message: toSubmittedMessage(one) });
      } catch (error) {
        outcomes[position] = { messageId: one.messageId, error: { code: status.INVALID_ARGUMENT, message: errorMessage(error) } };
      }
    });
    const decided = await this.scheduling.submitMany(accepted.map(({ message }) => message));
    decided.forEach((outcome, index) => {
      const one = accepted[index];
      if (!one) return;
      const { position, message } = one;
      if (outcome.ok) {
        this.metrics.batchDecisionRecorded(outcome.result, outcome.seconds);
        outcomes[position] = { messageId: message.messageId, response: this.answer(message.messageId, outcome.result) };
        return;
      }
      this.metrics.batchDecisionFailed(outcome.seconds);
      this.logger.error({ msg: `message ${message.messageId} of a batch failed: ${errorMessage(outcome.error)}`, messageId: message.messageId });
      outcomes[position] = { messageId: message.messageId, error: { code: status.INTERNAL, message: errorMessage(outcome.error) } };
    });
    return { outcomes };
  }

  private answer(messageId: string, result: RecordMessageResult): schedulerV1.SubmitMessageResponse {
    const incident = result.alarm ? `, alarm ${result.alarm.outcome}${result.alarm.incidentId ? ` (incident ${result.alarm.incidentId})` : ''}` : '';
    const followUp = result.followUp ? `, follow-up ${result.followUp.outcome} (job ${result.followUp.jobId}, thread ${result.followUp.threadJobId})` : '';
    this.logger.log({
      msg:
        `message ${messageId}: ${result.classification}${result.duplicate ? ' (duplicate)' : ''}` +
        `${result.rejectionReason ? ` - ${result.rejectionReason}` : ''}, ${result.decisions.length} decision(s)${incident}${followUp}`,
      messageId,
      deliveryId: result.deliveryId,
      classification: result.classification,
      ...(result.decisions.length === 1 ? { jobId: result.decisions[0]?.jobId } : {}),
      ...(result.decisions.length > 1 ? { jobIds: result.decisions.map((decision) => decision.jobId) } : {}),
    });
    return {
      deliveryId: result.deliveryId,
      classification: CLASSIFICATIONS[result.classification],
      rejectionReason: result.rejectionReason ?? '',
      duplicate: result.duplicate,
      decisions: result.decisions.map((decision) => ({
        jobId: decision.jobId,
        kind: SPAWN_KINDS[decision.kind],
        key: decision.key,
        repository: decision.repository,
      })),
    };
  }
}

function toSubmittedMessage(request: schedulerV1.SubmitMessageRequest): SubmittedMessage {
  const messageId = request.messageId.trim();
  if (messageId.length === 0) {
    throw new InvalidSubmission('message_id is required');
  }
  // The delivery is keyed by it, so it cannot be stored escaped like a body: refused, and the caller keeps the message.
  if (messageId.includes('\0')) {
    throw new InvalidSubmission('message_id must not contain NUL (U+0000)');
  }
  // Strict: V8's Date.parse turns 2026-02-30 into March 2nd.
  const receivedAt = parseAwsTimestamp(request.receivedAt);
  if (receivedAt === null) {
    throw new InvalidSubmission(`received_at must be an ISO-8601 timestamp with a zone, got ${JSON.stringify(request.receivedAt)}`);
  }
  return { messageId, body: request.body, receivedAt };
}
