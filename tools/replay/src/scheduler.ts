import { IngestRepository, PrismaClient } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY, RecordMessageResult, SchedulingService, SubmittedMessage } from '@agent-conductor/scheduling';

export interface Scheduler {
  submit(message: SubmittedMessage): Promise<RecordMessageResult>;
}

/**
 * The scheduler service's own code path (SchedulingService), so that a replay
 * decides exactly as production would, with the production defaults.
 */
export function createScheduler(prisma: PrismaClient, defaultRepositoryUrl: string): Scheduler {
  return new SchedulingService(new IngestRepository(prisma), { defaultRepositoryUrl, incidentPolicy: DEFAULT_INCIDENT_POLICY });
}
