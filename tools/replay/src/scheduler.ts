import { createPrismaClient, IngestRepository, JobRepository } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY, RecordMessageResult, SchedulingService, SubmittedMessage } from '@agent-conductor/scheduling';
import { claimOf, classifyMessage, type JobKind, type RoutingTable } from '@agent-conductor/scheduling-domain';
import type { ScenarioJobEnd } from './scenario';

/** The claim a job is admitted under, as its route decides it. */
export interface JobClaim {
  claim: string;
  /** The route's maxActive; null: the per-claim default. */
  claimLimit: number | null;
}

/** A stored job as the simulation needs it: a follow-up keeps its first job's kind and claim. */
export interface StoredJobClaim extends JobClaim {
  kind: JobKind;
  /** The thread's first job, for a follow-up (admission holds it while its thread is active). */
  followUpOf: string | null;
}

export interface Scheduler {
  submit(message: SubmittedMessage): Promise<RecordMessageResult>;
  /** The claim of the job a message's decision creates: the same route the scheduler stored with the job. */
  claimFor(body: string): JobClaim;
  /** The claim, kind and thread stored on a job (follow-ups copy their first job's). */
  storedClaim(jobId: string): Promise<StoredJobClaim>;
  /**
   * Ends the oldest job of `end.key` that has not ended, through the Shutdown's own writer, at `at` on the scenario's
   * clock. Returns its id, or null when the key has no such job.
   */
  endJob(end: ScenarioJobEnd, at: Date): Promise<string | null>;
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
  const prisma = createPrismaClient(databaseUrl);
  const jobs = new JobRepository(prisma);
  const scheduling = new SchedulingService(ingest, { defaultRepositoryUrl, incidentPolicy: DEFAULT_INCIDENT_POLICY, ...(routing ? { routing } : {}) });
  return {
    submit: (message) => scheduling.submit(message),
    claimFor: (body) => {
      const route = scheduling.routeFor(classifyMessage(body));
      return { claim: claimOf(route), claimLimit: route.maxActive ?? null };
    },
    storedClaim: async (jobId) => {
      const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
      return { kind: job.kind, claim: job.claimKey ?? job.repository, claimLimit: job.claimLimit, followUpOf: job.followUpOfId };
    },
    endJob: async (end, at) => {
      const job = await prisma.job.findFirst({ where: { key: end.key, status: { notIn: ['succeeded', 'failed', 'cancelled'] } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      if (!job) return null;
      const result = { branch: end.branch, title: `${end.key} (replayed)`, ...(end.pullRequest !== undefined ? { pullRequest: end.pullRequest } : {}) };
      await prisma.$transaction(async (tx) => {
        await jobs.finish(job.id, { status: end.status, result }, tx);
        // On the scenario's clock, so an export of this database orders the end among the deliveries as it happened.
        await tx.job.update({ where: { id: job.id }, data: { finishedAt: at } });
      });
      return job.id;
    },
    close: async () => {
      await prisma.$disconnect();
      await ingest.close();
    },
  };
}
