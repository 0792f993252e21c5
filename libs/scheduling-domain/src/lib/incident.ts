/**
 * How CloudWatch alarms of one AWS account are grouped into incidents (one agent each).
 *
 * - `windowMs`: an ALARM joins an incident when its event time is within this distance (inclusive) of the event
 *   time of any ALARM already in it. Each joining alarm extends the reach (rolling window).
 * - `capMs`: an incident never spans more than this, measured from its earliest to its latest alarm; an alarm that
 *   would stretch it further starts a new incident. Without it a flapping alarm would keep one incident open forever.
 */
export interface IncidentPolicy {
  windowMs: number;
  capMs: number;
}

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = Object.freeze({
  windowMs: 60 * 60_000,
  capMs: 24 * 60 * 60_000,
});

/** The event times of an incident's earliest and latest ALARM. */
export interface IncidentSpan {
  firstEventAt: Date;
  lastEventAt: Date;
}

/** Problems with a policy, as sentences; empty when it is usable. */
export function incidentPolicyProblems(policy: IncidentPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(policy.windowMs) || policy.windowMs <= 0) {
    problems.push(`incident window must be a positive whole number of milliseconds (got ${policy.windowMs})`);
  }
  if (!Number.isSafeInteger(policy.capMs) || policy.capMs <= 0) {
    problems.push(`incident cap must be a positive whole number of milliseconds (got ${policy.capMs})`);
  }
  if (problems.length === 0 && policy.capMs < policy.windowMs) {
    // Such a cap would cut every chain before the window could matter: almost certainly a unit mix-up.
    problems.push(`incident cap (${policy.capMs} ms) must not be shorter than the window (${policy.windowMs} ms)`);
  }
  return problems;
}

/**
 * Whether an ALARM at `eventTime` joins an incident with this span.
 *
 * Sorted by time, consecutive alarms of an incident are never more than a window apart (each one joined within a
 * window of another), so "within a window of any alarm in it" is exactly "within [first − window, last + window]":
 * the span alone decides, without the alarms. The cap holds for the span the alarm would produce, so an alarm
 * earlier than the first one is measured against the latest one.
 */
export function incidentAccepts(span: IncidentSpan, eventTime: Date, policy: IncidentPolicy): boolean {
  const t = eventTime.getTime();
  const first = span.firstEventAt.getTime();
  const last = span.lastEventAt.getTime();
  const inReach = t >= first - policy.windowMs && t <= last + policy.windowMs;
  const withinCap = Math.max(last, t) - Math.min(first, t) <= policy.capMs;
  return inReach && withinCap;
}

/** The span after an alarm at `eventTime` joined. */
export function extendSpan(span: IncidentSpan, eventTime: Date): IncidentSpan {
  const t = eventTime.getTime();
  return {
    firstEventAt: new Date(Math.min(span.firstEventAt.getTime(), t)),
    lastEventAt: new Date(Math.max(span.lastEventAt.getTime(), t)),
  };
}

/**
 * Bounds for looking up the incidents an ALARM at `eventTime` may join, with an index on (account, last_event_at).
 * An incident is a candidate exactly when
 *   lastEventAt ∈ [lastFrom, lastTo]  and  firstEventAt ∈ [firstFrom, firstTo];
 * this equals {@link incidentAccepts} for every span that respects the cap (last − first ≤ cap), which all stored
 * incidents do because only accepted alarms ever extend them.
 */
export function incidentLookupBounds(
  eventTime: Date,
  policy: IncidentPolicy,
): { lastFrom: Date; lastTo: Date; firstFrom: Date; firstTo: Date } {
  const t = eventTime.getTime();
  return {
    lastFrom: new Date(t - policy.windowMs),
    lastTo: new Date(t + policy.capMs),
    firstFrom: new Date(t - policy.capMs),
    firstTo: new Date(t + policy.windowMs),
  };
}

/**
 * Among the incidents an alarm could join, the one it joins: the earliest (by first alarm). Two are reachable only
 * when an out-of-order alarm falls between two incidents; it does not merge them (each already has its agent).
 */
export function chooseIncident<T extends IncidentSpan>(candidates: readonly T[], eventTime: Date, policy: IncidentPolicy): T | undefined {
  let chosen: T | undefined;
  for (const candidate of candidates) {
    if (!incidentAccepts(candidate, eventTime, policy)) continue;
    if (chosen === undefined || candidate.firstEventAt.getTime() < chosen.firstEventAt.getTime()) {
      chosen = candidate;
    }
  }
  return chosen;
}

/**
 * The incident an OK or INSUFFICIENT_DATA transition belongs to, for the record only: an incident whose alarms began
 * at or before it and whose reach (last alarm + window) it falls in. It never extends the span or spawns anything.
 */
export function incidentCoversRecovery(span: IncidentSpan, eventTime: Date, policy: IncidentPolicy): boolean {
  const t = eventTime.getTime();
  return t >= span.firstEventAt.getTime() && t <= span.lastEventAt.getTime() + policy.windowMs;
}

/** What {@link planIncidents} decides for one alarm. */
export type IncidentAssignment =
  | { outcome: 'spawn'; incident: number }
  | { outcome: 'join'; incident: number }
  | { outcome: 'recorded'; incident: number | null };
