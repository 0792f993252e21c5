/**
 * The documented scheduling rules (docs/scheduling.md, "Incident scheduling"), re-implemented
 * as naively as possible so the harness's expectation does not share code, or
 * bugs, with the system under test: every incident keeps all its alarm times and
 * each ALARM is compared with each of them.
 */

export type AlarmState = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

export interface AlarmFact {
  account: string;
  state: AlarmState;
  eventTimeMs: number;
}

export interface IncidentPolicy {
  windowMs: number;
  capMs: number;
}

export const DOCUMENTED_POLICY: IncidentPolicy = { windowMs: 60 * 60_000, capMs: 24 * 3_600_000 };

export interface ReferenceIncident {
  account: string;
  /** Event times of its ALARMs, in the order they joined. */
  alarmTimes: number[];
}

function accepts(incident: ReferenceIncident, alarm: AlarmFact, policy: IncidentPolicy): boolean {
  if (incident.account !== alarm.account) return false;
  const nearOne = incident.alarmTimes.some((time) => Math.abs(time - alarm.eventTimeMs) <= policy.windowMs);
  if (!nearOne) return false;
  const first = Math.min(alarm.eventTimeMs, ...incident.alarmTimes);
  const last = Math.max(alarm.eventTimeMs, ...incident.alarmTimes);
  return last - first <= policy.capMs;
}

/** Incidents the rules produce when the alarms are processed in the given order. */
export function referenceIncidents(alarms: readonly AlarmFact[], policy: IncidentPolicy = DOCUMENTED_POLICY): ReferenceIncident[] {
  const incidents: ReferenceIncident[] = [];
  for (const alarm of alarms) {
    if (alarm.state !== 'ALARM') continue;
    const candidates = incidents.filter((incident) => accepts(incident, alarm, policy));
    // Never merged: with two candidates the one whose first alarm is earliest wins.
    const earliest = candidates.reduce<ReferenceIncident | undefined>(
      (best, incident) => (best === undefined || Math.min(...incident.alarmTimes) < Math.min(...best.alarmTimes) ? incident : best),
      undefined,
    );
    if (earliest) earliest.alarmTimes.push(alarm.eventTimeMs);
    else incidents.push({ account: alarm.account, alarmTimes: [alarm.eventTimeMs] });
  }
  return incidents;
}

export type ScenarioFact = { kind: 'ticket'; key: string } | ({ kind: 'alarm' } & AlarmFact) | { kind: 'garbage' };

export interface ExpectedJobs {
  total: number;
  /** Jobs per `kind:key`, e.g. `ticket:CHAOS-1` → 1, `incident:111111111111` → 3. */
  byKey: Map<string, number>;
}

export function jobKey(kind: 'ticket' | 'incident', key: string): string {
  return `${kind}:${key}`;
}

/** One job per distinct ticket key ever, plus one per incident, for facts in processing order. */
export function expectedJobs(facts: readonly ScenarioFact[], policy: IncidentPolicy = DOCUMENTED_POLICY): ExpectedJobs {
  const byKey = new Map<string, number>();
  for (const fact of facts) {
    if (fact.kind === 'ticket') byKey.set(jobKey('ticket', fact.key), 1);
  }
  const alarms = facts.flatMap((fact) => (fact.kind === 'alarm' ? [fact] : []));
  for (const incident of referenceIncidents(alarms, policy)) {
    const key = jobKey('incident', incident.account);
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
  }
  let total = 0;
  for (const count of byKey.values()) total += count;
  return { total, byKey };
}

export interface ObservedJob {
  kind: string;
  key: string;
}

/** Jobs beyond what is expected for their kind and key, summed over keys (missing jobs are not negative duplicates). */
export function countDuplicateJobs(expected: ExpectedJobs, jobs: readonly ObservedJob[]): number {
  const observed = new Map<string, number>();
  for (const job of jobs) {
    const key = `${job.kind}:${job.key}`;
    observed.set(key, (observed.get(key) ?? 0) + 1);
  }
  let duplicates = 0;
  for (const [key, count] of observed) duplicates += Math.max(0, count - (expected.byKey.get(key) ?? 0));
  return duplicates;
}
