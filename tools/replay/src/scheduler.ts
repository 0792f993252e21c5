import { IngestRepository } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY, RecordMessageResult, SchedulingService, SubmittedMessage } from '@agent-conductor/scheduling';
import { claimOf, classifyMessage, type RoutingTable } from '@agent-conductor/scheduling-domain';

/** The claim a job is admitted under, as its route decides it. */
export interface JobClaim {
  claim: string;
  /** The route's maxActive; null: the per-claim default. */
  claimLimit: number | null;
}

export interface Scheduler {
  submit(message: SubmittedMessage): Promise<RecordMessageResult>;
  /** The claim of the job a message's decision creates: the same route the scheduler stored with the job. */
  claimFor(body: string): JobClaim;
}

export interface ReplayScheduler extends Scheduler {
  /** Closes the ingest connections; call before the database goes away. */
  close(): Promise<void>;
}

/**
 * The scheduler service's own code path (SchedulingService), so that a replay
 * decides exactly as production would, with the production defaults. Without
 * a routing table every job takes the default route to defaultRepositoryUrl.
 */
export function createScheduler(databaseUrl: string, defaultRepositoryUrl: string, routing?: RoutingTable): ReplayScheduler {
  const ingest = new IngestRepository({ databaseUrl });
  const scheduling = new SchedulingService(ingest, { defaultRepositoryUrl, incidentPolicy: DEFAULT_INCIDENT_POLICY, ...(routing ? { routing } : {}) });
  return {
    submit: (message) => scheduling.submit(message),
    claimFor: (body) => {
      const route = scheduling.routeFor(classifyMessage(body));
      return { claim: claimOf(route), claimLimit: route.maxActive ?? null };
    },
    close: () => ingest.close(),
  };
}
