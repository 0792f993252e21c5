import { loadRoutingFile } from '@agent-conductor/scheduling';
import { AlarmFacts, classifyMessage, incidentGroupOf, planGroupedIncidents } from '@agent-conductor/scheduling-domain';
import { join } from 'node:path';
import { decisionsOf, readScenario, runReplay, SCENARIOS, type PrintedDecision } from './support';

const scenario = (name: string): string => join(SCENARIOS, name);
const ROUTING = scenario('incident-groups-routing.json');

/** A run's decisions with job ids numbered in order of first appearance: ids are random per run, jobs are not. */
function comparable(decisions: PrintedDecision[]): Array<{ line: number; key: string; job: number; attached: boolean; alarmName?: string }> {
  const jobs = new Map<string, number>();
  return decisions.map((decision) => {
    if (!jobs.has(decision.jobId)) jobs.set(decision.jobId, jobs.size + 1);
    return { line: decision.line, key: decision.key, job: jobs.get(decision.jobId) ?? 0, attached: decision.attached === true, alarmName: decision.alarmName };
  });
}

describe('replay --routing with incident groups', () => {
  it('incident-groups: attaches within the window while the job is pending, per-account joins, other groups alone; the same on a second run', async () => {
    const first = await runReplay(scenario('incident-groups.jsonl'), '--routing', ROUTING);
    expect(first.code).toBe(0);
    const decided = comparable(decisionsOf(first.stdout));
    expect(decided).toEqual([
      { line: 1, key: '111111111111', job: 1, attached: false, alarmName: 'orders-5xx' },
      { line: 2, key: '222222222222', job: 1, attached: true, alarmName: 'payments-latency' },
      { line: 3, key: '333333333333', job: 2, attached: false, alarmName: 'ledger-lag' },
      { line: 6, key: '222222222222', job: 3, attached: false, alarmName: 'payments-latency' },
      { line: 7, key: '111111111111', job: 3, attached: true, alarmName: 'orders-latency' },
    ]);
    expect(first.stderr).toContain("8 lines (0 tickets, 0 updates, 7 alarms, 0 rejected, 1 duplicates, 0 malformed, 0 job ends) -> 3 decisions (+2 incidents attached to another account's job)");

    // The database implementation agrees with the domain's in-memory reference (no job launches during a replay).
    const seen = new Set<string>();
    const alarms: Array<{ line: number; alarm: AlarmFacts }> = [];
    readScenario(scenario('incident-groups.jsonl')).forEach((message, index) => {
      if (message === null || seen.has(message.messageId)) return;
      seen.add(message.messageId);
      const classified = classifyMessage(message.body);
      if (classified.classification === 'alarm') alarms.push({ line: index + 1, alarm: classified.alarm });
    });
    const table = loadRoutingFile(ROUTING);
    const plan = planGroupedIncidents(
      alarms.map(({ alarm }) => alarm),
      (account) => incidentGroupOf(account, table),
    );
    const expected = plan.flatMap((assignment, index) => {
      const at = alarms[index];
      if (at === undefined || (assignment.outcome !== 'spawn' && assignment.outcome !== 'attach')) return [];
      return [{ line: at.line, key: at.alarm.account, job: assignment.job + 1, attached: assignment.outcome === 'attach', alarmName: at.alarm.alarmName }];
    });
    expect(decided).toEqual(expected);

    const second = await runReplay(scenario('incident-groups.jsonl'), '--routing', ROUTING);
    expect(second.code).toBe(0);
    expect(comparable(decisionsOf(second.stdout))).toEqual(decided);
  });

  it('without the routing file every account keeps its own jobs', async () => {
    const run = await runReplay(scenario('incident-groups.jsonl'));
    expect(run.code).toBe(0);
    expect(comparable(decisionsOf(run.stdout)).map((decision) => [decision.line, decision.job, decision.attached])).toEqual([
      [1, 1, false],
      [2, 2, false],
      [3, 3, false],
      [6, 4, false],
      [7, 5, false],
    ]);
  });

  it('with --simulate, an attached incident shows its shared job and starts with it', async () => {
    const run = await runReplay(scenario('incident-groups.jsonl'), '--routing', ROUTING, '--simulate');
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout, 'simulated');
    expect(decisions.map((decision) => [decision.line, decision.attached === true])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [6, false],
      [7, true],
    ]);
    const [first, attachedToFirst, , third, attachedToThird] = decisions;
    expect(attachedToFirst).toMatchObject({ jobId: first?.jobId, repository: 'https://github.com/acme/orders.git', startAt: first?.startAt });
    expect(attachedToThird).toMatchObject({ jobId: third?.jobId, repository: 'https://github.com/acme/payments.git', startAt: third?.startAt });
  });
});
