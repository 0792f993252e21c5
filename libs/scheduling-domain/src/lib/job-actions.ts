/**
 * Operator actions on a job: cancel, re-run, approve, reject. The rules are pure so that the conductor's HTTP API and
 * the `jobs` CLI decide alike; the database applies each decision with one UPDATE guarded by the state it was decided
 * from, and decides again when another writer changed the job in between.
 */

export const JOB_ACTIONS = ['cancel', 'rerun', 'approve', 'reject'] as const;
export type JobActionName = (typeof JOB_ACTIONS)[number];

export type ActionJobStatus = 'pending' | 'launching' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobApprovalState = 'none' | 'required' | 'approved' | 'rejected';

/** What the rules read of a job. */
export interface ActionableJob {
  id: string;
  status: ActionJobStatus;
  approval: JobApprovalState;
  /** Set once an operator asked a launching or running job to stop. */
  cancelRequestedAt: Date | null;
}

export type JobActionStep =
  /** pending → cancelled at once: nothing runs yet. */
  | { step: 'cancel-waiting' }
  /** launching/running: heartbeats answer stop_requested from now on; the job ends `cancelled` when its attempt ends. */
  | { step: 'request-stop' }
  /** An ended job gets a new job linked to it (rerun_of) that goes through admission like any other. */
  | { step: 'rerun' }
  /** pending, awaiting approval → approved: admission may start it. */
  | { step: 'approve' }
  /** pending, awaiting approval → cancelled, approval rejected. */
  | { step: 'reject' }
  /** The job is already where the action would take it: asking twice changes nothing and is no error. */
  | { step: 'unchanged'; note: string }
  /** Not allowed from the job's state (HTTP 409, CLI exit 1). */
  | { step: 'refused'; message: string };

const ENDED: readonly ActionJobStatus[] = ['succeeded', 'failed', 'cancelled'];

export function isEndedStatus(status: ActionJobStatus): boolean {
  return ENDED.includes(status);
}

/** Decides what `action` does to `job` as it stands. Never throws. */
export function planJobAction(action: JobActionName, job: ActionableJob): JobActionStep {
  switch (action) {
    case 'cancel':
      return planCancel(job);
    case 'rerun':
      return isEndedStatus(job.status)
        ? { step: 'rerun' }
        : { step: 'refused', message: `job ${job.id} is ${job.status}; only an ended job (succeeded, failed or cancelled) can be re-run` };
    case 'approve':
    case 'reject':
      return planApproval(action, job);
  }
}

function planCancel(job: ActionableJob): JobActionStep {
  switch (job.status) {
    case 'pending':
      return { step: 'cancel-waiting' };
    case 'launching':
    case 'running':
      return job.cancelRequestedAt === null
        ? { step: 'request-stop' }
        : { step: 'unchanged', note: `stop already requested at ${job.cancelRequestedAt.toISOString()}` };
    case 'cancelled':
      return { step: 'unchanged', note: 'already cancelled' };
    case 'succeeded':
    case 'failed':
      return { step: 'refused', message: `job ${job.id} has already ended (${job.status}); it cannot be cancelled` };
  }
}

function planApproval(action: 'approve' | 'reject', job: ActionableJob): JobActionStep {
  const done = action === 'approve' ? 'approved' : 'rejected';
  if (job.approval === done) return { step: 'unchanged', note: `already ${done}` };
  if (job.approval === 'none') return { step: 'refused', message: `job ${job.id} does not need approval (its route does not ask for it)` };
  if (job.approval !== 'required') return { step: 'refused', message: `job ${job.id} was already ${job.approval}` };
  if (job.status !== 'pending') return { step: 'refused', message: `job ${job.id} is ${job.status}; only a job awaiting approval can be ${done}` };
  return action === 'approve' ? { step: 'approve' } : { step: 'reject' };
}
