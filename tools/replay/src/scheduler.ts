import { IngestRepository, PrismaClient } from '@agent-conductor/db';
import { classifyMessage, renderTicketTask } from '@agent-conductor/scheduling-domain';

export interface SchedulerDecision {
  jobId: string;
  kind: 'ticket' | 'incident';
  key: string;
  repository: string;
  incidentId?: string;
}

export interface SchedulerResult {
  deliveryId: string;
  duplicate: boolean;
  classification: 'ticket' | 'alarm' | 'rejected';
  rejectionReason: string | null;
  decisions: SchedulerDecision[];
}

export interface Scheduler {
  submit(message: { messageId: string; body: string; receivedAt: Date }): Promise<SchedulerResult>;
}

/** What replay feeds: the scheduler service's own code path (STAND-IN until @agent-conductor/scheduling lands). */
export function createScheduler(prisma: PrismaClient, defaultRepositoryUrl: string): Scheduler {
  const ingest = new IngestRepository(prisma);
  return {
    submit: (message) => {
      const classified = classifyMessage(message.body);
      return ingest.recordMessage({
        sqsMessageId: message.messageId,
        receivedAt: message.receivedAt,
        body: message.body,
        classified,
        repository: defaultRepositoryUrl,
        taskMarkdown: classified.classification === 'ticket' ? renderTicketTask(classified.ticket) : undefined,
      });
    },
  };
}
