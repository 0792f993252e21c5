import type { JobKind } from './types';

/**
 * Admission: which waiting jobs may start now, and why the others wait. The same rules serve the conductor (state
 * read from Postgres inside one locked transaction) and replay's simulator (state in memory), so both answer the
 * same questions the same way.
 */

export const DEFAULT_MAX_ACTIVE_JOBS = 10;
export const DEFAULT_CLAIM_MAX_ACTIVE_JOBS = 1;

export interface AdmissionLimits {
  /** At most this many jobs active at once (MAX_ACTIVE_JOBS). */
  maxActiveJobs: number;
  /** At most this many active jobs per claim key, unless the job's route says otherwise (REPO_MAX_ACTIVE_JOBS). */
  claimMaxActiveJobs: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxActiveJobs: DEFAULT_MAX_ACTIVE_JOBS,
  claimMaxActiveJobs: DEFAULT_CLAIM_MAX_ACTIVE_JOBS,
};

/** A job that has an attempt launching or running: it holds a worker slot and a place in its claim. */
export interface ActiveJob {
  id: string;
  claim: string;
  /** Its follow-up thread: the first job's id (its own for a first job, `follow_up_of` for a follow-up). */
  thread?: string | null;
}

/** A pending job, in line to start. */
export interface QueuedJob {
  id: string;
  kind: JobKind;
  /** The claim key: the route's `claim`, else its repository (see `claimOf`). */
  claim: string;
  /** The route's `maxActive` for this claim; absent or null: the limits' `claimMaxActiveJobs`. */
  claimLimit?: number | null;
  /** When the scheduler decided the job: older first within a kind. */
  decidedAt: Date;
  /**
   * Arrival order among jobs decided at the same instant; smaller arrived first (the delivery's receipt time in
   * milliseconds, or a scenario's line number). Ties fall to the id, so the order is total.
   */
  arrival: number;
  /** A retried job waits out its backoff until then; meanwhile it holds nothing and keeps its place in line. */
  notBefore?: Date | null;
  /** The route asked for a human's approval and nobody has given it yet: the job holds nothing and starts nothing. */
  awaitingApproval?: boolean;
  /**
   * A follow-up job (docs/follow-ups.md): the first job of its thread. It does not start while any job of that thread
   * (the first job or another follow-up) is active: one agent per pull request at a time, on one branch.
   */
  followUpOf?: string | null;
}

/** The waiting reason of a job held for approval; operators and the console look for exactly this text. */
export const AWAITING_APPROVAL = 'awaiting approval';

export type WaitingCause =
  | { cause: 'approval' }
  | { cause: 'claim'; claim: string; limit: number; heldBy: string[] }
  | { cause: 'slot'; active: number; max: number }
  | { cause: 'backoff'; until: Date }
  | { cause: 'thread'; thread: string; heldBy: string[] };

export interface WaitingJob {
  id: string;
  /** For people: `waiting for repository claim <key> (held by job <id>)`, `waiting for a worker slot (10/10 active)`. */
  reason: string;
  detail: WaitingCause;
}

export interface AdmissionPlan {
  /** The jobs to start now, in the order they were admitted. */
  admit: string[];
  /** Every queued job not admitted, in line order, with why it waits. */
  waiting: WaitingJob[];
  /** Active jobs after the admissions: the running total against `maxActiveJobs`. */
  activeAfter: number;
}

export interface AdmissionInput {
  /** Jobs holding a slot now (attempt launching or running). */
  active: readonly ActiveJob[];
  /** Pending jobs, in any order. */
  queued: readonly QueuedJob[];
  limits: AdmissionLimits;
  /** Backoffs that end at or before this instant are over. */
  now: Date;
}

/** Incidents first: an outage outranks any ticket. */
const KIND_RANK: Record<JobKind, number> = { incident: 0, ticket: 1 };

/** The claim key of a route: its `claim` when set, else its repository. */
export function claimOf(route: { repository: string; claim?: string }): string {
  return route.claim ?? route.repository;
}

/** Line order: incidents before tickets; within a kind by decision time, then arrival, then id. */
export function compareQueued(a: QueuedJob, b: QueuedJob): number {
  return (
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    a.decidedAt.getTime() - b.decidedAt.getTime() ||
    a.arrival - b.arrival ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The claim limit that applies to a queued job: its route's, else the default. */
export function claimLimitOf(job: Pick<QueuedJob, 'claimLimit'>, limits: AdmissionLimits): number {
  return job.claimLimit ?? limits.claimMaxActiveJobs;
}

/**
 * Work-conserving admission: walks the line in order and admits every job that fits both the global cap and its
 * claim, skipping those that do not, so a job blocked by its claim never blocks a job for another claim. A job in
 * retry backoff is skipped without holding anything, and so is a follow-up while a job of its thread is active (or
 * admitted earlier in the pass). Never throws; limits below 1 admit nothing.
 */
export function planAdmission(input: AdmissionInput): AdmissionPlan {
  const { limits, now } = input;
  const holders = new Map<string, string[]>();
  const hold = (claim: string, id: string): void => {
    const list = holders.get(claim);
    if (list) list.push(id);
    else holders.set(claim, [id]);
  };
  for (const job of input.active) hold(job.claim, job.id);
  let active = input.active.length;
  const busyThreads = new Map<string, string[]>();
  const occupy = (thread: string, id: string): void => {
    const list = busyThreads.get(thread);
    if (list) list.push(id);
    else busyThreads.set(thread, [id]);
  };
  for (const job of input.active) if (job.thread) occupy(job.thread, job.id);

  const line = [...input.queued].sort(compareQueued);
  const admit: string[] = [];
  const blocked: Array<{ job: QueuedJob; backoffUntil: Date | null }> = [];
  // A follow-up whose thread is busy holds nothing; it is not counted against the caps it never reached.
  const threadBlocked: QueuedJob[] = [];
  const unapproved: QueuedJob[] = [];
  for (const job of line) {
    if (job.awaitingApproval) {
      unapproved.push(job);
      continue;
    }
    if (job.notBefore && job.notBefore.getTime() > now.getTime()) {
      blocked.push({ job, backoffUntil: job.notBefore });
      continue;
    }
    if (job.followUpOf && busyThreads.has(job.followUpOf)) {
      threadBlocked.push(job);
      continue;
    }
    const held = holders.get(job.claim)?.length ?? 0;
    if (active < limits.maxActiveJobs && held < claimLimitOf(job, limits)) {
      admit.push(job.id);
      hold(job.claim, job.id);
      if (job.followUpOf) occupy(job.followUpOf, job.id);
      active += 1;
    } else {
      blocked.push({ job, backoffUntil: null });
    }
  }

  // Reasons are written after the pass, so each names the claim holders and slot count as they stand once it is done.
  const waiting = blocked.map(({ job, backoffUntil }): WaitingJob => {
    if (backoffUntil) return waitingFor(job.id, { cause: 'backoff', until: backoffUntil });
    const limit = claimLimitOf(job, limits);
    const heldBy = holders.get(job.claim) ?? [];
    if (heldBy.length >= limit) return waitingFor(job.id, { cause: 'claim', claim: job.claim, limit, heldBy: [...heldBy] });
    return waitingFor(job.id, { cause: 'slot', active, max: limits.maxActiveJobs });
  });
  waiting.push(...threadBlocked.map((job) => waitingFor(job.id, { cause: 'thread', thread: job.followUpOf ?? '', heldBy: [...(busyThreads.get(job.followUpOf ?? '') ?? [])] })));
  // Jobs held for approval keep their place in line: once approved, their decision time orders them as before.
  waiting.push(...unapproved.map((job) => waitingFor(job.id, { cause: 'approval' })));
  const lineOrder = new Map(line.map((job, index) => [job.id, index]));
  waiting.sort((a, b) => (lineOrder.get(a.id) ?? 0) - (lineOrder.get(b.id) ?? 0));
  return { admit, waiting, activeAfter: active };
}

export function describeWaiting(cause: WaitingCause): string {
  switch (cause.cause) {
    case 'approval':
      return AWAITING_APPROVAL;
    case 'claim': {
      const held = cause.heldBy.length === 0 ? 'limit 0' : `held by ${cause.heldBy.length === 1 ? 'job' : 'jobs'} ${cause.heldBy.join(', ')}`;
      return `waiting for repository claim ${cause.claim} (${held})`;
    }
    case 'slot':
      return `waiting for a worker slot (${cause.active}/${cause.max} active)`;
    case 'backoff':
      return `waiting for retry backoff until ${cause.until.toISOString()}`;
    case 'thread':
      return `waiting for ${cause.heldBy.length === 1 ? 'job' : 'jobs'} ${cause.heldBy.join(', ')} of its follow-up thread to end (one job per pull request at a time)`;
  }
}

function waitingFor(id: string, detail: WaitingCause): WaitingJob {
  return { id, reason: describeWaiting(detail), detail };
}

/** A job in a simulation: it becomes eligible at `decidedAt` and, once started, runs for exactly `durationMs`. */
export interface SimulatedJob extends Omit<QueuedJob, 'notBefore'> {
  durationMs: number;
}

export interface SimulatedStart {
  id: string;
  /** null only when the limits can never admit the job (a limit below 1). */
  startAt: Date | null;
  endAt: Date | null;
  /** Why it waited when it first could not start, or null when it started the moment it was decided. */
  firstWaiting: string | null;
}

/**
 * Runs admission over time for jobs with known durations (no failures, no retries), as replay's `--simulate` needs.
 * At each instant ends are processed before starts, so a job decided as another ends sees the freed slot. Returns
 * one start per job, in input order. Throws only on a caller's mistake: two jobs with one id.
 */
export function simulateAdmission(jobs: readonly SimulatedJob[], limits: AdmissionLimits): SimulatedStart[] {
  const ids = new Set<string>();
  for (const job of jobs) {
    if (ids.has(job.id)) throw new Error(`simulateAdmission: job id ${job.id} appears twice`);
    ids.add(job.id);
  }
  // Latest decision first, so the next one to arrive is popped off the end.
  const pending = [...jobs].sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime());
  let running: Array<{ id: string; claim: string; thread: string; endAt: number }> = [];
  let queued: SimulatedJob[] = [];
  const firstWaiting = new Map<string, string>();
  const starts = new Map<string, SimulatedStart>();
  // Jobs whose limits admit nothing never start; the loop ends when nothing can change any more.
  while (pending.length > 0 || (queued.length > 0 && running.length > 0)) {
    const nextEnd = running.reduce((min, job) => Math.min(min, job.endAt), Number.POSITIVE_INFINITY);
    const now = Math.min(nextEnd, pending.at(-1)?.decidedAt.getTime() ?? Number.POSITIVE_INFINITY);
    // Ends first, then the decisions of the same instant.
    running = running.filter((job) => job.endAt !== now);
    for (let next = pending.at(-1); next !== undefined && next.decidedAt.getTime() === now; next = pending.at(-1)) {
      queued.push(next);
      pending.pop();
    }

    const plan = planAdmission({ active: running, queued, limits, now: new Date(now) });
    const admitted = new Set(plan.admit);
    for (const job of queued) {
      if (!admitted.has(job.id)) continue;
      const endAt = now + job.durationMs;
      running.push({ id: job.id, claim: job.claim, thread: job.followUpOf ?? job.id, endAt });
      starts.set(job.id, { id: job.id, startAt: new Date(now), endAt: new Date(endAt), firstWaiting: firstWaiting.get(job.id) ?? null });
    }
    queued = queued.filter((job) => !admitted.has(job.id));
    for (const { id, reason } of plan.waiting) if (!firstWaiting.has(id)) firstWaiting.set(id, reason);
  }
  return jobs.map(
    (job) => starts.get(job.id) ?? { id: job.id, startAt: null, endAt: null, firstWaiting: firstWaiting.get(job.id) ?? null },
  );
}
