import { DEFAULT_INCIDENT_POLICY } from './incident';
import {
  chooseGroupJob,
  GroupCandidate,
  incidentLockKey,
  jobRepositoriesOf,
  mergeJobRepositories,
  planGroupedIncidents,
  safeRepositoryName,
} from './incident-group';
import { RouteRepository } from './routing';
import { AlarmFacts } from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = new Date('2026-05-12T20:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
const policy = DEFAULT_INCIDENT_POLICY;
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const D = '444444444444';

function candidate(account: string, firstOffset: number, lastOffset: number, jobId: string, overrides: Partial<GroupCandidate> = {}): GroupCandidate {
  return { account, incidentId: `incident-${account}-${firstOffset}`, jobId, jobPending: true, firstEventAt: at(firstOffset), lastEventAt: at(lastOffset), ...overrides };
}

function alarm(account: string, offsetMs: number, state: AlarmFacts['state'] = 'ALARM'): AlarmFacts {
  return { account, region: 'eu-west-1', alarmName: `high-cpu-${account}`, state, reason: null, eventTime: at(offsetMs), alarmArn: null, metrics: [] };
}

describe('chooseGroupJob', () => {
  const group = [A, B, C];

  it('attaches to a pending job of another account of the group whose incident reaches the alarm', () => {
    expect(chooseGroupJob([candidate(A, 0, 10 * MINUTE, 'job-a')], { account: B, eventTime: at(70 * MINUTE) }, group, policy)?.jobId).toBe('job-a');
  });

  it('does not attach beyond the window, to a launched job, to its own account, or across groups', () => {
    const alarmOfB = { account: B, eventTime: at(71 * MINUTE) };
    expect(chooseGroupJob([candidate(A, 0, 10 * MINUTE, 'job-a')], alarmOfB, group, policy)).toBeUndefined();
    expect(chooseGroupJob([candidate(A, 0, 30 * MINUTE, 'job-a', { jobPending: false })], alarmOfB, group, policy)).toBeUndefined();
    expect(chooseGroupJob([candidate(B, 0, 30 * MINUTE, 'job-b')], alarmOfB, group, policy)).toBeUndefined();
    expect(chooseGroupJob([candidate(D, 0, 30 * MINUTE, 'job-d')], alarmOfB, group, policy)).toBeUndefined();
  });

  it('respects the cap: a reachable incident that would span more than 24 hours does not take the alarm', () => {
    expect(chooseGroupJob([candidate(A, 0, 23 * HOUR + 30 * MINUTE, 'job-a')], { account: B, eventTime: at(24 * HOUR + MINUTE) }, group, policy)).toBeUndefined();
  });

  it('takes the earliest incident by first alarm, then by incident id', () => {
    const later = candidate(C, 20 * MINUTE, 20 * MINUTE, 'job-c');
    const earlier = candidate(A, 10 * MINUTE, 10 * MINUTE, 'job-a');
    expect(chooseGroupJob([later, earlier], { account: B, eventTime: at(30 * MINUTE) }, group, policy)?.jobId).toBe('job-a');
    const tie = candidate(C, 10 * MINUTE, 10 * MINUTE, 'job-c', { incidentId: 'incident-0' });
    expect(chooseGroupJob([earlier, tie], { account: B, eventTime: at(30 * MINUTE) }, group, policy)?.jobId).toBe('job-c');
  });
});

describe('incidentLockKey', () => {
  it("is the group's for a grouped account, else the account's", () => {
    expect(incidentLockKey(A, undefined)).toBe(`incident:${A}`);
    expect(incidentLockKey(A, 'shop')).toBe('incident-group:shop');
  });
});

describe('job repositories', () => {
  const repo = (url: string, name: string, sparsePaths: string[] = []): RouteRepository => ({ url, branch: 'main', name, sparsePaths });

  it("lists a one-repository job's repository with its default name", () => {
    expect(jobRepositoriesOf({ repository: 'https://github.com/acme/orders.git', branch: null, sparsePaths: ['infra'], repositories: null })).toEqual([
      repo('https://github.com/acme/orders.git', 'orders', ['infra']),
    ]);
    expect(safeRepositoryName('my repo..x')).toBe('my-repo.x');
    expect(safeRepositoryName('')).toBe('repo');
  });

  it('adds new repositories by URL, keeps those already there, and renames a clashing name', () => {
    const current = [repo('https://github.com/acme/orders.git', 'orders'), repo('https://github.com/acme/shared.git', 'shared')];
    const added = [repo('https://github.com/acme/shared.git', 'common', ['x']), repo('https://github.com/other/orders.git', 'orders'), repo('https://github.com/acme/pay.git', 'pay')];
    expect(mergeJobRepositories(current, added)).toEqual([
      repo('https://github.com/acme/orders.git', 'orders'),
      repo('https://github.com/acme/shared.git', 'shared'),
      repo('https://github.com/other/orders.git', 'orders-2'),
      repo('https://github.com/acme/pay.git', 'pay'),
    ]);
  });
});

describe('planGroupedIncidents', () => {
  const groups: Record<string, string> = { [A]: 'shop', [B]: 'shop', [C]: 'billing' };
  const groupOf = (account: string): string | undefined => groups[account];

  it('attaches a new incident of another account of the group to the pending job; joins stay per account', () => {
    expect(
      planGroupedIncidents([alarm(A, 0), alarm(B, 30 * MINUTE), alarm(B, 80 * MINUTE), alarm(A, 20 * MINUTE, 'OK'), alarm(C, 40 * MINUTE), alarm(D, 45 * MINUTE)], groupOf),
    ).toEqual([
      { outcome: 'spawn', incident: 0, job: 0 },
      { outcome: 'attach', incident: 1, job: 0 },
      // B's own incident takes B's next alarm (per-account rules decide joins).
      { outcome: 'join', incident: 1, job: 0 },
      { outcome: 'recorded', incident: 0 },
      // Another group, and no group at all: their own jobs.
      { outcome: 'spawn', incident: 2, job: 1 },
      { outcome: 'spawn', incident: 3, job: 2 },
    ]);
  });

  it('spawns once the job has launched', () => {
    const launched = new Set<number>();
    const alarms = [alarm(A, 0), alarm(B, 30 * MINUTE)];
    launched.add(0);
    expect(planGroupedIncidents(alarms, groupOf, policy, (job) => launched.has(job))).toEqual([
      { outcome: 'spawn', incident: 0, job: 0 },
      { outcome: 'spawn', incident: 1, job: 1 },
    ]);
  });

  it('without groups decides exactly as the per-account rules', () => {
    expect(planGroupedIncidents([alarm(A, 0), alarm(B, 30 * MINUTE), alarm(A, 50 * MINUTE)], () => undefined)).toEqual([
      { outcome: 'spawn', incident: 0, job: 0 },
      { outcome: 'spawn', incident: 1, job: 1 },
      { outcome: 'join', incident: 0, job: 0 },
    ]);
  });
});
