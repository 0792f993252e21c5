import { simulateAdmission, type AdmissionLimits, type JobKind, type SimulatedJob } from '@agent-conductor/scheduling-domain';

export const DEFAULT_JOB_MINUTES = 30;

export interface SimulationSettings {
  /** Every job runs exactly this long from its start: no failures, no retries. */
  jobMinutes: number;
  limits: AdmissionLimits;
}

/** A spawn decision as the simulation needs it: who, under which claim, eligible from when. */
export interface SimulationInput {
  jobId: string;
  kind: JobKind;
  /** The claim key (the route's `claim`, else its repository). */
  claim: string;
  /** The route's `maxActive`; null: the limits' per-claim default. */
  claimLimit: number | null;
  /** The line's receivedAt: the moment the scheduler decided the job. */
  decidedAt: Date;
  /** The scenario line: arrival order among jobs decided at the same instant. */
  line: number;
  /** A follow-up's first job: it waits while a job of its thread runs. */
  followUpOf?: string | null;
}

export interface SimulatedOutcome {
  jobId: string;
  claim: string;
  /** null when the limits can never admit the job. */
  startAt: Date | null;
  /** Why it first waited; null when it started as soon as it was decided. */
  firstWaiting: string | null;
}

const MINUTE_MS = 60_000;

/**
 * Admission on the scenario's own clock, by the domain's own rules (simulateAdmission, the code the conductor's
 * admission runs on): outcomes in input order.
 */
export function simulate(inputs: readonly SimulationInput[], settings: SimulationSettings): SimulatedOutcome[] {
  const durationMs = Math.round(settings.jobMinutes * MINUTE_MS);
  const jobs: SimulatedJob[] = inputs.map((input) => ({
    id: input.jobId,
    kind: input.kind,
    claim: input.claim,
    claimLimit: input.claimLimit,
    decidedAt: input.decidedAt,
    arrival: input.line,
    followUpOf: input.followUpOf ?? null,
    durationMs,
  }));
  return simulateAdmission(jobs, settings.limits).map((start, index) => ({
    jobId: start.id,
    claim: inputs[index]?.claim ?? '',
    startAt: start.startAt,
    firstWaiting: start.firstWaiting,
  }));
}

/** One stderr line: what was simulated and how long the longest wait was. */
export function formatSimulationSummary(inputs: readonly SimulationInput[], outcomes: readonly SimulatedOutcome[], settings: SimulationSettings, keys: ReadonlyMap<string, string>): string {
  const limits = `${settings.jobMinutes} min per job, at most ${settings.limits.maxActiveJobs} active, ${settings.limits.claimMaxActiveJobs} per claim unless its route says otherwise`;
  let longest: { waitMs: number; jobId: string } | undefined;
  let lastStart: Date | undefined;
  let neverStarted = 0;
  outcomes.forEach((outcome, index) => {
    const input = inputs[index];
    if (!input) return;
    if (outcome.startAt === null) {
      neverStarted += 1;
      return;
    }
    const waitMs = outcome.startAt.getTime() - input.decidedAt.getTime();
    if (!longest || waitMs > longest.waitMs) longest = { waitMs, jobId: input.jobId };
    if (!lastStart || outcome.startAt > lastStart) lastStart = outcome.startAt;
  });
  const longestText = longest ? `; longest wait ${formatMinutes(longest.waitMs)} (${keys.get(longest.jobId) ?? longest.jobId})` : '';
  const lastText = lastStart ? `; last start ${lastStart.toISOString()}` : '';
  const neverText = neverStarted > 0 ? `; ${neverStarted} never start` : '';
  return `simulate: ${outcomes.length} jobs (${limits})${lastText}${longestText}${neverText}`;
}

function formatMinutes(ms: number): string {
  const minutes = ms / MINUTE_MS;
  return `${Number.isInteger(minutes) ? minutes : minutes.toFixed(2)} min`;
}
