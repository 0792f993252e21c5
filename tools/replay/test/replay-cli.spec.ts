import { join } from 'node:path';
import { decisionsOf, runReplay, SCENARIOS, shapeOf } from './support';

const scenario = (name: string): string => join(SCENARIOS, name);

describe('replay CLI on the example scenarios', () => {
  it('tickets-and-duplicates: one job per ticket key, redelivery is a no-op', async () => {
    const run = await runReplay(scenario('tickets-and-duplicates.jsonl'));
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout).map(shapeOf)).toEqual([
      { line: 1, kind: 'ticket', key: 'ENG-123' },
      { line: 4, kind: 'ticket', key: 'ENG-124' },
      { line: 6, kind: 'ticket', key: '10042' },
    ]);
    // Line 3, the jira:issue_updated of ENG-123, is recorded against the ticket as an update.
    expect(run.stderr).toContain('6 lines (4 tickets, 1 updates, 0 alarms, 0 rejected, 1 duplicates, 0 malformed, 0 job ends) -> 3 decisions');
    expect(run.stderr).toContain('line 3: update recorded (message tkt-0002): jira:issue_updated of ENG-123: recorded against the ticket');
  });

  it('follow-ups: review comments on the ticket\'s pull request, batching, refusals, a Jira comment on the same thread', async () => {
    const run = await runReplay(scenario('follow-ups.jsonl'));
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout);
    expect(decisions.map(shapeOf)).toEqual([
      { line: 1, kind: 'ticket', key: 'FU-1' },
      { line: 3, kind: 'follow-up', key: 'FU-1' },
      { line: 10, kind: 'follow-up', key: 'FU-1' },
      { line: 15, kind: 'ticket', key: 'FU-2' },
    ]);
    const [first, followUp, next] = decisions;
    expect(followUp?.followUpOf).toBe(first?.jobId);
    expect(next?.followUpOf).toBe(first?.jobId);
    const notes = run.stderr.split('\n');
    const noteFor = (line: number): string => notes.find((text) => text.startsWith(`line ${line}: `)) ?? `nothing for line ${line}`;
    expect(noteFor(4)).toBe(`line 4: batched into follow-up job ${followUp?.jobId}`);
    expect(noteFor(5)).toMatch(/^line 5: rejected .*reply marker/);
    expect(noteFor(6)).toMatch(/^line 6: rejected .*no write access/);
    expect(noteFor(7)).toMatch(/^line 7: rejected .*pull\/99 was not opened by Agent Conductor/);
    expect(noteFor(8)).toMatch(/^line 8: update recorded .*not addressed to the agent/);
    expect(noteFor(11)).toMatch(new RegExp(`^line 11: update recorded .*already requested \\(follow-up job ${followUp?.jobId}\\)`));
    expect(noteFor(12)).toBe(`line 12: batched into follow-up job ${next?.jobId}`);
    expect(noteFor(13)).toMatch(/^line 13: update recorded .*jira:issue_updated of FU-1/);
    expect(run.stderr).toContain('15 lines (2 tickets, 7 updates, 0 alarms, 3 rejected, 1 duplicates, 0 malformed, 2 job ends) -> 4 decisions');
  });

  it('incident-chaining: rolling 60-minute window per account, boundaries, out of order, OK and redelivery', async () => {
    const run = await runReplay(scenario('incident-chaining.jsonl'));
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout);
    expect(decisions.map(shapeOf)).toEqual([
      { line: 1, kind: 'incident', key: '111111111111', alarmName: 'api-high-cpu' },
      { line: 2, kind: 'incident', key: '222222222222', alarmName: 'orders-5xx' },
      { line: 9, kind: 'incident', key: '222222222222', alarmName: 'orders-latency' },
      { line: 10, kind: 'incident', key: '111111111111', alarmName: 'api-high-cpu' },
    ]);
    const incidentIds = decisions.map((decision) => decision.incidentId);
    expect(incidentIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(incidentIds).size).toBe(4);
    expect(run.stderr).toContain('12 lines (0 tickets, 0 updates, 11 alarms, 0 rejected, 1 duplicates, 0 malformed, 0 job ends) -> 4 decisions');
  });

  it('sns-and-eventbridge: every alarm shape chains by account and event time', async () => {
    const run = await runReplay(scenario('sns-and-eventbridge.jsonl'));
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout).map(shapeOf)).toEqual([
      { line: 1, kind: 'incident', key: '123456789012', alarmName: 'api-high-cpu' },
      { line: 3, kind: 'incident', key: '333333333333', alarmName: 'search-high-cpu' },
      { line: 5, kind: 'incident', key: '444444444444', alarmName: 'billing-queue-age' },
    ]);
    expect(run.stderr).toContain('9 lines (0 tickets, 0 updates, 9 alarms, 0 rejected, 0 duplicates, 0 malformed, 0 job ends) -> 3 decisions');
  });

  it('garbage: rejections and malformed lines go to stderr with line numbers, the run still exits 0', async () => {
    const run = await runReplay(scenario('garbage.jsonl'));
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout).map(shapeOf)).toEqual([{ line: 9, kind: 'ticket', key: 'GAR-1' }]);
    const notes = run.stderr.split('\n');
    const noteFor = (line: number): string => notes.find((text) => text.startsWith(`line ${line}: `)) ?? `nothing for line ${line}`;
    expect(noteFor(1)).toMatch(/rejected .*not valid JSON/);
    expect(noteFor(2)).toMatch(/rejected .*not an object/);
    expect(noteFor(3)).toMatch(/rejected .*neither a key nor an id/);
    expect(noteFor(4)).toMatch(/rejected .*no AWS account id/);
    expect(noteFor(5)).toMatch(/malformed scenario line, skipped: not JSON/);
    expect(noteFor(6)).toMatch(/malformed scenario line, skipped: receivedAt/);
    expect(noteFor(7)).toMatch(/rejected .*neither a summary nor description/);
    expect(noteFor(8)).toMatch(/rejected .*not a Notification/);
    expect(noteFor(9)).toBe('nothing for line 9');
    expect(run.stderr).toContain('9 lines (1 tickets, 0 updates, 0 alarms, 6 rejected, 0 duplicates, 2 malformed, 0 job ends) -> 1 decisions');
  });

  it('exits non-zero with nothing on stdout when the scenario file is missing', async () => {
    const run = await runReplay(scenario('no-such-scenario.jsonl'));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('cannot read scenario file');
  });
});
