import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { AlarmFact, countDuplicateJobs, expectedJobs, jobKey, referenceIncidents, ScenarioFact } from './reference';
import { Rng } from './rng';
import { generateScenario, possibleArrivalOrder } from './scenario';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 4, 12, 12, 0, 0);

const at = (offsetMs: number, account = '111111111111', state: AlarmFact['state'] = 'ALARM'): AlarmFact => ({ account, state, eventTimeMs: T0 + offsetMs });
const incidentCount = (alarms: AlarmFact[]) => referenceIncidents(alarms).length;

describe('reference incident rules', () => {
  it('joins an ALARM exactly 60 minutes after the previous one (inclusive window)', () => {
    expect(incidentCount([at(0), at(60 * MINUTE)])).toBe(1);
  });

  it('starts a new incident at 60 minutes and 1 second', () => {
    expect(incidentCount([at(0), at(60 * MINUTE + 1000)])).toBe(2);
  });

  it('rolls: each joining alarm extends the reach', () => {
    expect(incidentCount([at(0), at(50 * MINUTE), at(100 * MINUTE), at(160 * MINUTE)])).toBe(1);
  });

  it('caps an incident at 24 hours after its first alarm: exactly 24 h joins, later starts a new one', () => {
    const hourly = Array.from({ length: 25 }, (_, hour) => at(hour * HOUR));
    expect(incidentCount(hourly)).toBe(1);
    expect(incidentCount([...hourly, at(25 * HOUR)])).toBe(2);
    expect(incidentCount([...Array.from({ length: 24 }, (_, hour) => at(hour * HOUR)), at(24 * HOUR + 1000)])).toBe(2);
  });

  it('measures the cap from an earlier late alarm against the latest one', () => {
    // Incident spans 1 h … 24 h 30 min; an alarm at 0 h 40 min would stretch it to 23 h 50 min: joins.
    const spanning = Array.from({ length: 24 }, (_, n) => at(HOUR + n * HOUR)).concat(at(24 * HOUR + 30 * MINUTE));
    expect(incidentCount([...spanning, at(40 * MINUTE)])).toBe(1);
    // At 0 h 20 min it would span 24 h 10 min: a new incident.
    expect(incidentCount([...spanning, at(20 * MINUTE)])).toBe(2);
  });

  it('keeps accounts apart', () => {
    expect(incidentCount([at(0, '111111111111'), at(MINUTE, '222222222222')])).toBe(2);
  });

  it('ignores OK and INSUFFICIENT_DATA: they neither spawn nor extend', () => {
    expect(incidentCount([at(0, undefined, 'OK'), at(MINUTE, undefined, 'INSUFFICIENT_DATA')])).toBe(0);
    expect(incidentCount([at(0), at(60 * MINUTE, undefined, 'OK'), at(120 * MINUTE)])).toBe(2);
  });

  it('joins a late alarm earlier than the first one when within the window, and picks the earliest of two candidates', () => {
    expect(incidentCount([at(60 * MINUTE), at(0)])).toBe(1);
    const incidents = referenceIncidents([at(0), at(100 * MINUTE), at(50 * MINUTE)]);
    expect(incidents.map((incident) => incident.alarmTimes.length)).toEqual([2, 1]);
    expect(incidents[0]?.alarmTimes).toContain(T0 + 50 * MINUTE);
  });

  it('counts expected jobs as distinct ticket keys plus incidents, and duplicates per key', () => {
    const facts: ScenarioFact[] = [
      { kind: 'ticket', key: 'A-1' },
      { kind: 'ticket', key: 'A-1' },
      { kind: 'ticket', key: 'A-2' },
      { kind: 'garbage' },
      { kind: 'alarm', ...at(0) },
      { kind: 'alarm', ...at(2 * HOUR) },
    ];
    const expected = expectedJobs(facts);
    expect(expected.total).toBe(4);
    expect(expected.byKey.get(jobKey('incident', '111111111111'))).toBe(2);
    const observed = [
      { kind: 'ticket', key: 'A-1' },
      { kind: 'ticket', key: 'A-1' },
      { kind: 'ticket', key: 'A-2' },
      { kind: 'incident', key: '111111111111' },
      { kind: 'incident', key: '111111111111' },
      { kind: 'incident', key: '111111111111' },
      { kind: 'ticket', key: 'NEVER-SENT' },
    ];
    expect(countDuplicateJobs(expected, observed)).toBe(3);
    expect(countDuplicateJobs(expected, observed.slice(0, 1))).toBe(0);
  });
});

describe('generated chaos scenario', () => {
  it.each([
    [20, 1],
    [200, 7],
    [200, 42],
  ])('has exactly N=%i messages (seed %i), all classified as intended', (n, seed) => {
    const scenario = generateScenario(n, seed);
    expect(scenario.messages).toHaveLength(n);
    for (const message of scenario.messages) {
      const classified = classifyMessage(message.body);
      if (message.fact.kind === 'garbage') expect(classified.classification).toBe('rejected');
      else expect(classified.classification).toBe(message.fact.kind);
      if (message.fact.kind === 'ticket' && classified.classification === 'ticket') expect(classified.ticket.key).toBe(message.fact.key);
    }
  });

  it('is deterministic for a seed', () => {
    expect(generateScenario(60, 3)).toEqual(generateScenario(60, 3));
  });

  it('covers duplicates, both alarm shapes, OK alarms, the window boundaries and the 24 h cap at full size', () => {
    const scenario = generateScenario(200, 1);
    const labels = scenario.messages.map((message) => message.label).join('\n');
    for (const part of ['(webhook)', '(issue)', 'copy 2/', 'eventbridge', 'sns', ' OK ', 'pair-exact-window', 'pair-window-plus-1s', 'rolling-chain', 'cap-chain', 're-sent', 'garbage']) {
      expect(labels).toContain(part);
    }
  });

  it.each([20, 60, 200])('expects the same jobs for every arrival order the harness allows (N=%i)', (n) => {
    const scenario = generateScenario(n, n * 13);
    const inOrder = expectedJobs(scenario.messages.map((message) => message.fact)).total;
    const rng = new Rng(99);
    for (let trial = 0; trial < 25; trial++) {
      const order = possibleArrivalOrder(scenario, rng);
      expect(expectedJobs(order.map((message) => message.fact)).total).toBe(inOrder);
    }
  });

  it('would not be order-independent without the serial constraint (the reason it exists)', () => {
    const chain = [at(0), at(50 * MINUTE), at(100 * MINUTE)];
    expect(incidentCount(chain)).toBe(1);
    expect(incidentCount([chain[0], chain[2], chain[1]] as AlarmFact[])).toBe(2);
  });
});
