import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GENERATOR_OPTIONS, generateScenario } from '../src/generator';
import { parseScenarioLine, ScenarioMessage } from '../src/scenario';
import { decisionsOf, runReplay, runTool } from './support';

const WINDOW_MS = 60 * 60_000;
const CAP_MS = 24 * 60 * 60_000;

/**
 * The incident rules from issue 3, written as plainly as possible: which lines
 * start a new incident. Arrival order, per account; an ALARM joins an incident
 * when it is within the window of any of its alarms and within the cap of its
 * first alarm.
 */
function expectedIncidentLines(messages: ScenarioMessage[]): number[] {
  const incidents = new Map<string, Array<{ first: number; times: number[] }>>();
  const seen = new Set<string>();
  const lines: number[] = [];
  messages.forEach((message, index) => {
    if (seen.has(message.messageId)) return;
    seen.add(message.messageId);
    const classified = classifyMessage(message.body);
    if (classified.classification !== 'alarm' || classified.alarm.state !== 'ALARM') return;
    const t = classified.alarm.eventTime.getTime();
    const own = incidents.get(classified.alarm.account) ?? [];
    incidents.set(classified.alarm.account, own);
    const joined = own.find((incident) => t - incident.first <= CAP_MS && incident.times.some((s) => Math.abs(t - s) <= WINDOW_MS));
    if (joined) {
      joined.times.push(t);
    } else {
      own.push({ first: t, times: [t] });
      lines.push(index + 1);
    }
  });
  return lines;
}

describe('scenario generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const options = { ...DEFAULT_GENERATOR_OPTIONS, accounts: 5, alarmsPerHour: 30, hours: 2, tickets: 20, seed: 7 };
    const first = generateScenario(options);
    expect(generateScenario(options)).toEqual(first);
    expect(generateScenario({ ...options, seed: 8 })).not.toEqual(first);
  });

  it('writes realistic traffic: every alarm shape, ALARM/OK mixes, tickets, webhooks and redeliveries', () => {
    const messages = generateScenario({ ...DEFAULT_GENERATOR_OPTIONS, accounts: 10, alarmsPerHour: 100, hours: 6, tickets: 200, duplicates: 0.05, seed: 3 });
    const counts = new Map<string, number>();
    const bump = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
    for (const message of messages) {
      const classified = classifyMessage(message.body);
      if (classified.classification === 'rejected') bump('rejected');
      if (classified.classification === 'ticket') bump(classified.source);
      if (classified.classification === 'alarm') {
        bump(classified.source);
        bump(classified.alarm.state);
        if (classified.source === 'sns' && message.body.includes('detail-type')) bump('sns-wrapped-eventbridge');
      }
    }
    expect(counts.get('rejected')).toBeUndefined();
    for (const what of ['eventbridge', 'sns', 'sns-wrapped-eventbridge', 'ALARM', 'OK', 'INSUFFICIENT_DATA', 'jira-issue', 'jira-webhook']) {
      expect(`${what}: ${(counts.get(what) ?? 0) > 0 ? 'present' : 'missing'}`).toBe(`${what}: present`);
    }
    const ids = messages.map((message) => message.messageId);
    const duplicates = ids.length - new Set(ids).size;
    expect(duplicates / ids.length).toBeGreaterThan(0.02);
    expect(duplicates / ids.length).toBeLessThan(0.08);
    const times = messages.map((message) => Date.parse(message.receivedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('CLI output is byte-identical for a seed and replays without errors to the decisions the rules predict', async () => {
    const args = ['--accounts', '8', '--alarms-per-hour', '60', '--hours', '4', '--tickets', '40', '--duplicates', '0.05', '--seed', '42'];
    const [a, b] = await Promise.all([runTool('tools/replay/src/generate.ts', args), runTool('tools/replay/src/generate.ts', args)]);
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(0);
    expect(b.stdout).toBe(a.stdout);

    const messages = a.stdout.trimEnd().split('\n').map((text) => {
      const parsed = parseScenarioLine(text);
      if (parsed.kind !== 'message') throw new Error(`generator wrote an unreadable line: ${text}`);
      return parsed.message;
    });
    const dir = mkdtempSync(join(tmpdir(), 'replay-generated-'));
    try {
      const file = join(dir, 'generated.jsonl');
      writeFileSync(file, a.stdout);
      const run = await runReplay(file);
      expect(run.code).toBe(0);
      const firsts = [...new Map(messages.map((message) => [message.messageId, message] as const)).values()];
      const classes = firsts.map((message) => classifyMessage(message.body).classification);
      // A jira:issue_updated is an update, or its ticket's first delivery when it overtook the ticket's creation.
      const jiraMessages = classes.filter((what) => what === 'ticket' || what === 'update').length;
      expect(classes.filter((what) => what === 'alarm')).toHaveLength(240);
      expect(jiraMessages).toBeGreaterThan(40);
      const duplicates = messages.length - firsts.length;
      const counted = /(\d+) lines \((\d+) tickets, (\d+) updates, 240 alarms, 0 rejected, (\d+) duplicates, 0 malformed, 0 job ends\)/.exec(run.stderr);
      expect(counted?.slice(1).map(Number)).toEqual([messages.length, expect.any(Number), expect.any(Number), duplicates]);
      expect(Number(counted?.[2]) + Number(counted?.[3])).toBe(jiraMessages);
      const decisions = decisionsOf(run.stdout);
      const tickets = decisions.filter((decision) => decision.kind === 'ticket');
      expect(tickets).toHaveLength(40);
      expect(new Set(tickets.map((decision) => decision.key)).size).toBe(40);
      const incidentLines = decisions.filter((decision) => decision.kind === 'incident').map((decision) => decision.line);
      const expected = expectedIncidentLines(messages);
      expect(expected.length).toBeGreaterThan(5);
      expect(incidentLines).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
