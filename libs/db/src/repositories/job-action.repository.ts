import { planJobAction, type JobActionName, type JobActionStep } from '@agent-conductor/scheduling-domain';
import { Injectable } from '@nestjs/common';
import type { Job, JobAction, Prisma, PrismaClient, Worker } from '../generated/prisma/client';
import { uuidv7 } from '../ingest/uuidv7';

export interface JobActionRequest {
  jobId: string;
  /** Who asked: `token`, a proxy user's email, or `cli:<os user>`. Stored as given. */
  actor: string;
  /** The operator's words, stored with the action. */
  reason?: string;
}

export type JobActionResult =
  /** The action changed the job (and, for a re-run, created `rerun`); a job_actions row records it. */
  | { outcome: 'applied'; job: Job; rerun?: Job }
  /** The job already was where the action leads (cancel twice, approve twice): nothing written. */
  | { outcome: 'unchanged'; job: Job; note: string }
  /** Not allowed from the job's state; nothing written. */
  | { outcome: 'refused'; job: Job; message: string }
  | { outcome: 'not-found' };

/** A job an operator asked to stop whose grace period is over, with its current attempt's worker if one is live. */
export interface OverdueCancel {
  jobId: string;
  cancelRequestedAt: Date;
  /** The current attempt's worker while it has not ended; null when nothing runs for the job any more (or ever did). */
  worker: Worker | null;
}

/*
 * Each pass decides from the job as read and writes with an UPDATE guarded by that state; when another writer (an
 * admission pass, a Shutdown, another operator) changed the job in between, the guard matches nothing and the next
 * pass decides again from the new state. Every real transition takes a handful of passes at most.
 */
const MAX_PASSES = 5;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Operator actions on jobs, for the conductor's HTTP API and the `jobs` CLI alike: state lives in Postgres, so every
 * conductor (and the CLI) acts the same way; conductors enforce a stop through heartbeats and the grace kill.
 */
@Injectable()
export class JobActionRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  async apply(action: JobActionName, request: JobActionRequest): Promise<JobActionResult> {
    // Not a job id at all (a typo, a key): unknown, rather than an error from the uuid column.
    if (!UUID.test(request.jobId)) return { outcome: 'not-found' };
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const result = await this.prisma.$transaction(async (tx) => {
        const job = await tx.job.findUnique({ where: { id: request.jobId } });
        if (!job) return { outcome: 'not-found' } as const;
        const step = planJobAction(action, job);
        if (step.step === 'refused') return { outcome: 'refused', job, message: step.message } as const;
        if (step.step === 'unchanged') return { outcome: 'unchanged', job, note: step.note } as const;
        return this.applyStep(tx, action, step, job, request);
      });
      if (result !== null) return result;
    }
    throw new Error(`job ${request.jobId} kept changing while ${action} was applied; try again`);
  }

  /** The actions taken on a job, oldest first (the console's job detail). */
  listForJob(jobId: string): Promise<JobAction[]> {
    return this.prisma.jobAction.findMany({ where: { jobId }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
  }

  /** Launching or running jobs asked to stop at or before `requestedBefore`, for the conductor's grace kill. */
  async overdueCancels(requestedBefore: Date): Promise<OverdueCancel[]> {
    const jobs = await this.prisma.job.findMany({
      where: { status: { in: ['launching', 'running'] }, cancelRequestedAt: { lte: requestedBefore } },
      select: { id: true, attempts: true, cancelRequestedAt: true, workers: { where: { state: { not: 'ended' } } } },
    });
    return jobs.map((job) => ({
      jobId: job.id,
      cancelRequestedAt: job.cancelRequestedAt ?? requestedBefore,
      worker: job.workers.find((worker) => worker.attempt === job.attempts) ?? null,
    }));
  }

  /** Null when the guard matched nothing: the job changed since it was read, and the caller decides again. */
  private async applyStep(
    tx: Prisma.TransactionClient,
    action: JobActionName,
    step: Exclude<JobActionStep, { step: 'refused' | 'unchanged' }>,
    job: Job,
    request: JobActionRequest,
  ): Promise<JobActionResult | null> {
    const now = new Date();
    let rerun: Job | undefined;
    let count: number;
    switch (step.step) {
      case 'cancel-waiting':
        ({ count } = await tx.job.updateMany({
          where: { id: job.id, status: 'pending' },
          data: { status: 'cancelled', finishedAt: now, waitingReason: null, nextAttemptAt: null },
        }));
        break;
      case 'request-stop':
        ({ count } = await tx.job.updateMany({
          where: { id: job.id, status: { in: ['launching', 'running'] }, cancelRequestedAt: null },
          data: { cancelRequestedAt: now },
        }));
        break;
      case 'approve':
        ({ count } = await tx.job.updateMany({
          where: { id: job.id, status: 'pending', approval: 'required' },
          data: { approval: 'approved', waitingReason: null },
        }));
        break;
      case 'reject':
        ({ count } = await tx.job.updateMany({
          where: { id: job.id, status: 'pending', approval: 'required' },
          data: { approval: 'rejected', status: 'cancelled', finishedAt: now, waitingReason: null },
        }));
        break;
      case 'rerun':
        rerun = await tx.job.create({ data: rerunOf(job) });
        count = 1;
        break;
    }
    if (count !== 1) return null;
    await tx.jobAction.create({
      data: {
        jobId: job.id,
        action,
        actor: request.actor,
        at: now,
        detail: {
          step: step.step,
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
          ...(rerun ? { rerunJobId: rerun.id } : {}),
        },
      },
    });
    const updated = await tx.job.findUniqueOrThrow({ where: { id: job.id } });
    return rerun ? { outcome: 'applied', job: updated, rerun } : { outcome: 'applied', job: updated };
  }
}

/**
 * The new job of a re-run: the same work (kind, key, route, TASK.md, delivery) as a fresh pending job linked by
 * rerun_of. It leaves ticket_id null, since jobs.ticket_id is what keeps "one job per ticket key" for the scheduler's
 * own decisions. A route that asked for approval got it from the operator who chose to re-run.
 */
function rerunOf(job: Job): Prisma.JobUncheckedCreateInput {
  return {
    id: uuidv7(),
    kind: job.kind,
    key: job.key,
    deliveryId: job.deliveryId,
    repository: job.repository,
    branch: job.branch,
    sparsePaths: job.sparsePaths,
    workerTaskDefinition: job.workerTaskDefinition,
    claimKey: job.claimKey,
    claimLimit: job.claimLimit,
    maxTokens: job.maxTokens,
    jiraTransition: job.jiraTransition,
    taskMarkdown: job.taskMarkdown,
    rerunOfId: job.id,
    approval: job.approval === 'none' ? 'none' : 'approved',
  };
}
