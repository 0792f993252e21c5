import { IngestRepository } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY, RecordMessageResult, SchedulingService, SubmittedMessage } from '@agent-conductor/scheduling';

export interface Scheduler {
  submit(message: SubmittedMessage): Promise<RecordMessageResult>;
}

export interface ReplayScheduler extends Scheduler {
  /** Closes the ingest connections; call before the database goes away. */
  close(): Promise<void>;
}

/**
 * The scheduler service's own code path (SchedulingService), so that a replay
 * decides exactly as production would, with the production defaults.
 */
export function createScheduler(databaseUrl: string, defaultRepositoryUrl: string): ReplayScheduler {
  const ingest = new IngestRepository({ databaseUrl });
  const scheduling = new SchedulingService(ingest, { defaultRepositoryUrl, incidentPolicy: DEFAULT_INCIDENT_POLICY });
  return { submit: (message) => scheduling.submit(message), close: () => ingest.close() };
}
