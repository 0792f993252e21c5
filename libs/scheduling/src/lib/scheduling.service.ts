import { IngestRepository, RecordMessageResult } from '@agent-conductor/db';
import { classifyMessage, IncidentPolicy, incidentPolicyProblems, renderTicketTask } from '@agent-conductor/scheduling-domain';

export interface SchedulingConfig {
  /** Repository every job works on until routing per project exists. */
  defaultRepositoryUrl: string;
  /** How alarms chain into incidents (window, cap). */
  incidentPolicy: IncidentPolicy;
}

export interface SubmittedMessage {
  /** The SQS message id: the idempotency key. */
  messageId: string;
  /** The raw queue body, exactly as delivered. */
  body: string;
  /** When the queue delivered it. The scheduler's only clock: alarms are timed by their own event time. */
  receivedAt: Date;
}

/**
 * Ingestion and scheduling: the one code path that both the scheduler service and the replay tool run, so that
 * what-if replays decide exactly as production does. No Nest here: tools construct it directly with
 * `new SchedulingService(new IngestRepository({ databaseUrl }), config)` (and close the repository when done).
 */
export class SchedulingService {
  private readonly config: Readonly<SchedulingConfig>;

  constructor(
    private readonly ingest: IngestRepository,
    config: SchedulingConfig,
  ) {
    const problems = incidentPolicyProblems(config.incidentPolicy);
    if (config.defaultRepositoryUrl.trim() === '') {
      problems.push('defaultRepositoryUrl is empty');
    }
    if (problems.length > 0) {
      throw new Error(`SchedulingService: ${problems.join('; ')}`);
    }
    this.config = Object.freeze({ ...config, incidentPolicy: Object.freeze({ ...config.incidentPolicy }) });
  }

  /** Classify → render TASK.md → persist and decide, in one transaction. Redelivery of a message id is a no-op. */
  async submit(message: SubmittedMessage): Promise<RecordMessageResult> {
    if (message.messageId.trim() === '') {
      throw new Error('SchedulingService.submit: messageId is empty');
    }
    if (Number.isNaN(message.receivedAt.getTime())) {
      throw new Error(`SchedulingService.submit: receivedAt of ${message.messageId} is not a valid date`);
    }
    const classified = classifyMessage(message.body);
    return this.ingest.recordMessage({
      sqsMessageId: message.messageId,
      receivedAt: message.receivedAt,
      body: message.body,
      classified,
      repository: this.config.defaultRepositoryUrl,
      taskMarkdown: classified.classification === 'ticket' ? renderTicketTask(classified.ticket) : undefined,
      incidentPolicy: this.config.incidentPolicy,
    });
  }
}
