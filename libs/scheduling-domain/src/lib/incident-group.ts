import { isAlarmActive } from './alarm';
import { chooseIncident, DEFAULT_INCIDENT_POLICY, extendSpan, incidentAccepts, incidentCoversRecovery, IncidentPolicy, IncidentSpan } from './incident';
import { DEFAULT_ROUTE_BRANCH, defaultRepositoryName, RouteRepository } from './routing';
import { AlarmFacts } from './types';

/**
 * Several accounts, one job. Incident routes may share a `group`. The per-account rules still decide whether an ALARM
 * joins an incident of its account or starts a new one; only when it starts one does the group matter: if an incident
 * of another account of the group accepts the alarm's time (window and cap, as if it were its own account's) and
 * that incident's job is still `pending`, the new incident is attached to that job instead of spawning one. The job
 * gains the account's repositories and alarms. Once the job has launched, the account's new incident spawns its own.
 *
 * Decisions are made under one lock per group (incidentLockKey) and in one lane per group (orderingKey), so they
 * depend only on the arrival order within the group: a replay of the same deliveries decides the same.
 */
export interface GroupCandidate extends IncidentSpan {
  account: string;
  incidentId: string;
  jobId: string;
  /** Whether the incident's job is still `pending` (nobody has claimed it). */
  jobPending: boolean;
}

/**
 * The candidate whose job a new incident of `account` is attached to, or undefined (it spawns its own job): among
 * incidents of the other accounts of the group that accept the alarm's event time and whose job is pending, the
 * earliest by first alarm (then by incident id, as the database orders them).
 */
export function chooseGroupJob<T extends GroupCandidate>(
  candidates: readonly T[],
  alarm: { account: string; eventTime: Date },
  groupAccounts: readonly string[],
  policy: IncidentPolicy,
): T | undefined {
  let chosen: T | undefined;
  for (const candidate of candidates) {
    if (candidate.account === alarm.account || !groupAccounts.includes(candidate.account) || !candidate.jobPending) continue;
    if (!incidentAccepts(candidate, alarm.eventTime, policy)) continue;
    if (chosen === undefined || earlier(candidate, chosen)) chosen = candidate;
  }
  return chosen;
}

function earlier(a: GroupCandidate, b: GroupCandidate): boolean {
  const byTime = a.firstEventAt.getTime() - b.firstEventAt.getTime();
  return byTime < 0 || (byTime === 0 && a.incidentId < b.incidentId);
}

/**
 * The advisory lock an ALARM's decision is made under: its group's when its route has one (attaching reads and
 * changes other accounts' jobs), else its account's. One lock per decision, so two decisions never wait on each other
 * in opposite orders.
 */
export function incidentLockKey(account: string, group: string | undefined): string {
  return group === undefined ? `incident:${account}` : `incident-group:${group}`;
}

/** A job's repositories as a list: jobs.repositories, or its one repository when that is null. */
export function jobRepositoriesOf(job: { repository: string; branch: string | null; sparsePaths: readonly string[]; repositories: readonly RouteRepository[] | null }): RouteRepository[] {
  if (job.repositories !== null && job.repositories.length > 0) return job.repositories.map((entry) => ({ ...entry, sparsePaths: [...entry.sparsePaths] }));
  return [{ url: job.repository, branch: job.branch ?? DEFAULT_ROUTE_BRANCH, name: safeRepositoryName(defaultRepositoryName(job.repository)), sparsePaths: [...job.sparsePaths] }];
}

/**
 * The job's repositories after an attached incident's: repositories already there (by URL) are kept as they are, new
 * ones are appended in their route's order; a name already taken gets `-2`, `-3`, … so every directory stays unique.
 */
export function mergeJobRepositories(current: readonly RouteRepository[], added: readonly RouteRepository[]): RouteRepository[] {
  const merged = current.map((entry) => ({ ...entry, sparsePaths: [...entry.sparsePaths] }));
  const urls = new Set(merged.map((entry) => entry.url));
  const names = new Set(merged.map((entry) => entry.name));
  for (const entry of added) {
    if (urls.has(entry.url)) continue;
    let name = entry.name;
    for (let suffix = 2; names.has(name); suffix += 1) name = `${entry.name}-${suffix}`;
    merged.push({ ...entry, name, sparsePaths: [...entry.sparsePaths] });
    urls.add(entry.url);
    names.add(name);
  }
  return merged;
}

/** A derived name made safe for a directory: other characters become `-`, `..` becomes `.`, nothing left: `repo`. */
export function safeRepositoryName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]/g, '-').replace(/\.{2,}/g, '.');
  return cleaned === '' || cleaned === '.' ? 'repo' : cleaned;
}

/** What {@link planGroupedIncidents} decides for one alarm: `attach` starts `incident` on the job of another account. */
export type GroupedIncidentAssignment =
  | { outcome: 'spawn'; incident: number; job: number }
  | { outcome: 'join'; incident: number; job: number }
  | { outcome: 'attach'; incident: number; job: number }
  | { outcome: 'recorded'; incident: number | null };

/**
 * The incident rules with groups, in memory, in arrival order: the reference the database implementation agrees
 * with. Incidents and jobs are numbered in the order they were created. `jobLaunched(job)` tells whether a job has
 * left `pending` by the time of the alarm (a replay launches nothing: every job stays pending).
 */
export function planGroupedIncidents(
  alarms: readonly AlarmFacts[],
  groupOf: (account: string) => string | undefined,
  policy: IncidentPolicy = DEFAULT_INCIDENT_POLICY,
  jobLaunched: (job: number) => boolean = () => false,
): GroupedIncidentAssignment[] {
  const incidents: Array<IncidentSpan & { account: string; index: number; job: number }> = [];
  let jobs = 0;
  return alarms.map((alarm): GroupedIncidentAssignment => {
    const ofAccount = incidents.filter((incident) => incident.account === alarm.account);
    if (!isAlarmActive(alarm)) {
      const covering = ofAccount
        .filter((incident) => incidentCoversRecovery(incident, alarm.eventTime, policy))
        .sort((a, b) => a.firstEventAt.getTime() - b.firstEventAt.getTime())[0];
      return { outcome: 'recorded', incident: covering?.index ?? null };
    }
    const joined = chooseIncident(ofAccount, alarm.eventTime, policy);
    if (joined) {
      Object.assign(joined, extendSpan(joined, alarm.eventTime));
      return { outcome: 'join', incident: joined.index, job: joined.job };
    }
    const group = groupOf(alarm.account);
    const index = incidents.length;
    const span = { firstEventAt: alarm.eventTime, lastEventAt: alarm.eventTime };
    if (group !== undefined) {
      const members = [...new Set(incidents.map((incident) => incident.account))].filter((account) => groupOf(account) === group);
      const target = chooseGroupJob(
        incidents.map((incident) => ({ ...incident, incidentId: String(incident.index).padStart(12, '0'), jobId: String(incident.job), jobPending: !jobLaunched(incident.job) })),
        alarm,
        members,
        policy,
      );
      if (target) {
        incidents.push({ account: alarm.account, index, job: target.job, ...span });
        return { outcome: 'attach', incident: index, job: target.job };
      }
    }
    const job = jobs;
    jobs += 1;
    incidents.push({ account: alarm.account, index, job, ...span });
    return { outcome: 'spawn', incident: index, job };
  });
}
