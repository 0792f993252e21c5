import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionsOf, runReplay, SCENARIOS, type PrintedDecision } from './support';

const scenario = (name: string): string => join(SCENARIOS, name);
const ROUTING = scenario('admission-routing.json');
const DEFAULT_REPOSITORY = 'replay://default-repository';

/** The comparable part of a simulated decision: ids are random per run. */
function started(decision: PrintedDecision): { key: string; repository: string | undefined; startAt: string | null | undefined } {
  return { key: decision.key, repository: decision.repository, startAt: decision.startAt };
}

const at = (hhmm: string): string => `2026-05-12T${hhmm}:00.000Z`;

describe('replay --simulate on the admission examples', () => {
  it('admission-burst: one repository runs one job at a time, in arrival order; an end frees the slot for a job decided at that instant', async () => {
    const run = await runReplay(scenario('admission-burst.jsonl'), '--simulate');
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout, 'simulated');
    expect(decisions.map((decision) => decision.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(decisions.map(started)).toEqual([
      { key: 'BURST-1', repository: DEFAULT_REPOSITORY, startAt: at('10:00') },
      { key: 'BURST-2', repository: DEFAULT_REPOSITORY, startAt: at('10:30') },
      { key: 'BURST-3', repository: DEFAULT_REPOSITORY, startAt: at('11:00') },
      { key: 'BURST-4', repository: DEFAULT_REPOSITORY, startAt: at('11:30') },
      { key: 'BURST-5', repository: DEFAULT_REPOSITORY, startAt: at('12:00') },
      { key: 'BURST-6', repository: DEFAULT_REPOSITORY, startAt: at('12:30') },
    ]);
    expect(run.stderr).toContain('simulate: 6 jobs (30 min per job, at most 10 active, 1 per claim unless its route says otherwise); last start 2026-05-12T12:30:00.000Z; longest wait 119.95 min (ticket BURST-5)');
  });

  it('follow-ups: room under the claim, yet each follow-up waits for the job before it on its thread', async () => {
    const run = await runReplay(scenario('follow-ups.jsonl'), '--simulate', '--repo-max-active-jobs', '3');
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout, 'simulated');
    expect(decisions.map((decision) => [decision.line, decision.kind, decision.followUpOf === decisions[0]?.jobId])).toEqual([
      [1, 'ticket', false],
      [3, 'follow-up', true],
      [10, 'follow-up', true],
      [15, 'ticket', false],
    ]);
    expect(decisions.map(started)).toEqual([
      { key: 'FU-1', repository: DEFAULT_REPOSITORY, startAt: at('10:00') },
      // Decided at 10:21 while the first job runs until 10:30, then 10:51 while the first follow-up runs until 11:00.
      { key: 'FU-1', repository: DEFAULT_REPOSITORY, startAt: at('10:30') },
      { key: 'FU-1', repository: DEFAULT_REPOSITORY, startAt: at('11:00') },
      { key: 'FU-2', repository: DEFAULT_REPOSITORY, startAt: at('10:56') },
    ]);
  });

  it('admission-burst with --repo-max-active-jobs 2 --job-minutes 45: two at a time, 45 minutes each', async () => {
    const run = await runReplay(scenario('admission-burst.jsonl'), '--simulate', '--repo-max-active-jobs', '2', '--job-minutes', '45');
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout, 'simulated').map((decision) => decision.startAt)).toEqual([at('10:00'), at('10:00'), at('10:45'), at('10:45'), at('11:30'), at('12:30')]);
  });

  it('admission-burst with --max-active-jobs 1: the global cap holds even where claims would allow more', async () => {
    const run = await runReplay(scenario('admission-burst.jsonl'), '--simulate', '--repo-max-active-jobs', '5', '--max-active-jobs', '1');
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout, 'simulated').map((decision) => decision.startAt)).toEqual([at('10:00'), at('10:30'), at('11:00'), at('11:30'), at('12:00'), at('12:30')]);
  });

  it('admission-incident-first: the incident overtakes the queued tickets on its repository', async () => {
    const run = await runReplay(scenario('admission-incident-first.jsonl'), '--simulate');
    expect(run.code).toBe(0);
    const decisions = decisionsOf(run.stdout, 'simulated');
    expect(decisions.map(started)).toEqual([
      { key: 'QUEUE-1', repository: DEFAULT_REPOSITORY, startAt: at('10:00') },
      { key: 'QUEUE-2', repository: DEFAULT_REPOSITORY, startAt: at('11:00') },
      { key: 'QUEUE-3', repository: DEFAULT_REPOSITORY, startAt: at('11:30') },
      { key: 'QUEUE-4', repository: DEFAULT_REPOSITORY, startAt: at('12:00') },
      // Decided at 10:10:10, behind three tickets; it starts as soon as QUEUE-1 ends.
      { key: '111111111111', repository: DEFAULT_REPOSITORY, startAt: at('10:30') },
    ]);
    expect(decisions[4]).toMatchObject({ line: 5, kind: 'incident', alarmName: 'checkout-5xx' });
  });

  it('admission-work-conserving: a job blocked on its claim does not hold up other claims; routes set claim and maxActive', async () => {
    const run = await runReplay(scenario('admission-work-conserving.jsonl'), '--simulate', '--routing', ROUTING);
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout, 'simulated').map(started)).toEqual([
      { key: 'SHOP-1', repository: 'https://github.com/acme/shop.git', startAt: at('10:00') },
      { key: 'SHOP-2', repository: 'https://github.com/acme/shop.git', startAt: at('10:30') },
      // Decided after SHOP-2, which waits for its claim: they start at once.
      { key: 'WEB-1', repository: 'acme/monorepo:web', startAt: at('10:02') },
      { key: 'WEB-2', repository: 'acme/monorepo:web', startAt: at('10:03') },
      { key: 'WEB-3', repository: 'acme/monorepo:web', startAt: at('10:32') },
      { key: 'API-1', repository: 'acme/monorepo:api', startAt: at('10:05') },
      { key: 'PLAT-1', repository: 'https://github.com/acme/platform.git', startAt: at('10:06') },
    ]);
  });

  it('admission-work-conserving with --max-active-jobs 3: from 10:03 on, each end starts the oldest waiting job that fits', async () => {
    const run = await runReplay(scenario('admission-work-conserving.jsonl'), '--simulate', '--routing', ROUTING, '--max-active-jobs', '3');
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout, 'simulated').map((decision) => [decision.key, decision.startAt])).toEqual([
      ['SHOP-1', at('10:00')],
      ['SHOP-2', at('10:30')],
      ['WEB-1', at('10:02')],
      ['WEB-2', at('10:03')],
      // WEB-3, API-1 and PLAT-1 wait for a slot (WEB-3 for its claim too): SHOP-1's end goes to SHOP-2, the oldest.
      ['WEB-3', at('10:32')],
      ['API-1', at('10:33')],
      ['PLAT-1', at('11:00')],
    ]);
  });

  it('without --simulate the output is exactly what replay always printed', async () => {
    const run = await runReplay(scenario('admission-burst.jsonl'));
    expect(run.code).toBe(0);
    expect(decisionsOf(run.stdout, 'plain').map((decision) => decision.key)).toEqual(['BURST-1', 'BURST-2', 'BURST-3', 'BURST-4', 'BURST-5', 'BURST-6']);
    expect(run.stderr).not.toContain('simulate:');
  });
});

describe('replay --simulate refuses bad usage before doing anything', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a simulation flag without --simulate', ['--job-minutes', '5'], /--job-minutes only makes sense with --simulate/],
    ['a job length of zero', ['--simulate', '--job-minutes', '0'], /--job-minutes must be a number > 0, got "0"/],
    ['a cap below one', ['--simulate', '--max-active-jobs', '0'], /--max-active-jobs must be a whole number ≥ 1, got "0"/],
    ['a fractional claim limit', ['--simulate', '--repo-max-active-jobs', '1.5'], /--repo-max-active-jobs must be a whole number ≥ 1, got "1.5"/],
    ['an unknown flag', ['--simulate', '--max-jobs', '3'], /unknown option --max-jobs/],
    ['a flag without its value', ['--simulate', '--routing'], /--routing needs a value/],
    ['a flag given twice', ['--simulate', '--job-minutes', '5', '--job-minutes', '6'], /--job-minutes is given twice/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await runReplay(scenario('admission-burst.jsonl'), ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('an invalid routing file: every problem with its JSON path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-simulate-spec-'));
    const file = join(dir, 'routing.json');
    writeFileSync(file, JSON.stringify({ default: { repository: 'https://github.com/acme/x.git', maxActive: 0 }, tickets: [{ match: {}, repository: 'y', claim: '' }] }));
    const run = await runReplay(scenario('admission-burst.jsonl'), '--simulate', '--routing', file);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('default.maxActive: must be at least 1');
    expect(run.stderr).toContain('tickets[0].claim: must not be empty');
  });
});
