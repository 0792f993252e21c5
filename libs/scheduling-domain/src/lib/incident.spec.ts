import {
  chooseIncident,
  DEFAULT_INCIDENT_POLICY,
  extendSpan,
  incidentAccepts,
  incidentCoversRecovery,
  incidentLookupBounds,
  IncidentPolicy,
  incidentPolicyProblems,
  IncidentSpan,
} from './incident';
import { planIncidents } from './incident-group';
import { AlarmFacts, AlarmState } from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = new Date('2026-05-12T20:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
const span = (firstOffset: number, lastOffset: number): IncidentSpan => ({ firstEventAt: at(firstOffset), lastEventAt: at(lastOffset) });
const policy = DEFAULT_INCIDENT_POLICY;

function alarm(offsetMs: number, overrides: Partial<AlarmFacts> = {}): AlarmFacts {
  return {
    account: '111111111111',
    region: 'us-west-2',
    alarmName: 'api-high-cpu',
    state: 'ALARM',
    reason: 'Threshold Crossed',
    eventTime: at(offsetMs),
    alarmArn: null,
    metrics: [],
    ...overrides,
  };
}

describe('DEFAULT_INCIDENT_POLICY', () => {
  it('is a 60 minute window and a 24 hour cap', () => {
    expect(DEFAULT_INCIDENT_POLICY).toEqual({ windowMs: 60 * MINUTE, capMs: 24 * HOUR });
    expect(incidentPolicyProblems(DEFAULT_INCIDENT_POLICY)).toEqual([]);
  });

  it.each([
    [{ windowMs: 0, capMs: HOUR }, /window must be a positive/],
    [{ windowMs: -1, capMs: HOUR }, /window must be a positive/],
    [{ windowMs: 1.5, capMs: HOUR }, /window must be a positive whole/],
    [{ windowMs: HOUR, capMs: Number.NaN }, /cap must be a positive/],
    [{ windowMs: HOUR, capMs: MINUTE }, /cap \(60000 ms\) must not be shorter than the window/],
  ] as Array<[IncidentPolicy, RegExp]>)('refuses %j', (bad, message) => {
    expect(incidentPolicyProblems(bad).join('\n')).toMatch(message);
  });
});

describe('incidentAccepts (window)', () => {
  const single = span(0, 0);

  it('joins at exactly 60 minutes after the latest alarm', () => {
    expect(incidentAccepts(single, at(60 * MINUTE), policy)).toBe(true);
  });

  it('does not join at 60 minutes + 1 second', () => {
    expect(incidentAccepts(single, at(60 * MINUTE + 1000), policy)).toBe(false);
  });

  it('does not join at 60 minutes + 1 millisecond', () => {
    expect(incidentAccepts(single, at(60 * MINUTE + 1), policy)).toBe(false);
  });

  it('joins an out-of-order alarm earlier than the first one, up to exactly 60 minutes before it', () => {
    expect(incidentAccepts(single, at(-60 * MINUTE), policy)).toBe(true);
    expect(incidentAccepts(single, at(-60 * MINUTE - 1000), policy)).toBe(false);
  });

  it('joins a late-arriving alarm whose time falls between the incident alarms', () => {
    expect(incidentAccepts(span(0, 5 * HOUR), at(2 * HOUR + 17 * MINUTE), policy)).toBe(true);
  });

  it('rolls: the reach is measured from the latest alarm, not the first', () => {
    const rolled = extendSpan(extendSpan(single, at(50 * MINUTE)), at(100 * MINUTE));
    expect(incidentAccepts(rolled, at(160 * MINUTE), policy)).toBe(true);
    expect(incidentAccepts(rolled, at(160 * MINUTE + 1), policy)).toBe(false);
  });

  it('follows a configured window', () => {
    const tight: IncidentPolicy = { windowMs: 5 * MINUTE, capMs: HOUR };
    expect(incidentAccepts(single, at(5 * MINUTE), tight)).toBe(true);
    expect(incidentAccepts(single, at(5 * MINUTE + 1), tight)).toBe(false);
  });
});

describe('incidentAccepts (cap)', () => {
  it('joins at exactly 24 hours after the first alarm', () => {
    expect(incidentAccepts(span(0, 23 * HOUR + 30 * MINUTE), at(24 * HOUR), policy)).toBe(true);
  });

  it('does not join at 24 hours + 1 millisecond, although it is within the window of the latest alarm', () => {
    expect(incidentAccepts(span(0, 23 * HOUR + 30 * MINUTE), at(24 * HOUR + 1), policy)).toBe(false);
  });

  it('measures an alarm earlier than the first one against the latest one', () => {
    const full = span(0, 23 * HOUR + 30 * MINUTE);
    expect(incidentAccepts(full, at(-30 * MINUTE), policy)).toBe(true);
    expect(incidentAccepts(full, at(-30 * MINUTE - 1), policy)).toBe(false);
  });

  it('accepts anything inside a span that already reaches the cap', () => {
    expect(incidentAccepts(span(0, 24 * HOUR), at(12 * HOUR), policy)).toBe(true);
  });
});

describe('extendSpan', () => {
  it('moves the first or the last event time, never shrinks', () => {
    expect(extendSpan(span(0, HOUR), at(-MINUTE))).toEqual(span(-MINUTE, HOUR));
    expect(extendSpan(span(0, HOUR), at(2 * HOUR))).toEqual(span(0, 2 * HOUR));
    expect(extendSpan(span(0, HOUR), at(MINUTE))).toEqual(span(0, HOUR));
  });
});

describe('incidentLookupBounds', () => {
  // The database looks incidents up by these bounds; they must select exactly what incidentAccepts accepts.
  it('selects exactly the spans incidentAccepts accepts, for every span within the cap', () => {
    const tight: IncidentPolicy = { windowMs: 3, capMs: 10 };
    let compared = 0;
    for (let first = -15; first <= 15; first += 1) {
      for (let last = first; last <= first + tight.capMs; last += 1) {
        for (let t = -20; t <= 20; t += 1) {
          const candidate = span(first, last);
          const b = incidentLookupBounds(at(t), tight);
          const f = candidate.firstEventAt.getTime();
          const l = candidate.lastEventAt.getTime();
          const selected =
            l >= b.lastFrom.getTime() && l <= b.lastTo.getTime() && f >= b.firstFrom.getTime() && f <= b.firstTo.getTime();
          expect([first, last, t, selected]).toEqual([first, last, t, incidentAccepts(candidate, at(t), tight)]);
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});

describe('chooseIncident', () => {
  it('picks the earliest incident when an out-of-order alarm reaches two', () => {
    const earlier = { name: 'earlier', ...span(0, HOUR) };
    const later = { name: 'later', ...span(2 * HOUR + 30 * MINUTE, 3 * HOUR) };
    expect(chooseIncident([later, earlier], at(HOUR + 45 * MINUTE), policy)?.name).toBe('earlier');
  });

  it('returns undefined when no incident accepts the alarm', () => {
    expect(chooseIncident([span(0, 0)], at(2 * HOUR), policy)).toBeUndefined();
  });
});

describe('incidentCoversRecovery', () => {
  it('covers from the first alarm to the window after the latest', () => {
    const incident = span(0, HOUR);
    expect(incidentCoversRecovery(incident, at(0), policy)).toBe(true);
    expect(incidentCoversRecovery(incident, at(2 * HOUR), policy)).toBe(true);
    expect(incidentCoversRecovery(incident, at(2 * HOUR + 1), policy)).toBe(false);
    expect(incidentCoversRecovery(incident, at(-1), policy)).toBe(false);
  });
});

describe('planIncidents', () => {
  it('spawns once for a chain of alarms, each within 60 minutes of the previous one', () => {
    const plan = planIncidents([alarm(0), alarm(60 * MINUTE), alarm(120 * MINUTE), alarm(180 * MINUTE)]);
    expect(plan).toEqual([
      { outcome: 'spawn', incident: 0 },
      { outcome: 'join', incident: 0 },
      { outcome: 'join', incident: 0 },
      { outcome: 'join', incident: 0 },
    ]);
  });

  it('starts a new incident at 60 minutes + 1 second', () => {
    expect(planIncidents([alarm(0), alarm(60 * MINUTE + 1000)]).map((a) => a.outcome)).toEqual(['spawn', 'spawn']);
  });

  it('caps a flapping alarm at 24 hours: exactly 24 h joins, the next one starts a new incident', () => {
    const flapping = Array.from({ length: 24 * 2 + 1 }, (_, i) => alarm(i * 30 * MINUTE));
    flapping.push(alarm(24 * HOUR + 1));
    const plan = planIncidents(flapping);
    expect(plan.slice(0, 49).every((a) => a.incident === 0)).toBe(true);
    expect(plan[48]).toEqual({ outcome: 'join', incident: 0 });
    expect(plan[49]).toEqual({ outcome: 'spawn', incident: 1 });
  });

  it('joins out-of-order alarms inside the reach, including ones earlier than the first alarm', () => {
    const plan = planIncidents([alarm(0), alarm(50 * MINUTE), alarm(20 * MINUTE), alarm(-55 * MINUTE), alarm(-114 * MINUTE)]);
    expect(plan.map((a) => a.outcome)).toEqual(['spawn', 'join', 'join', 'join', 'join']);
  });

  it('keeps accounts apart: an alarm of another account never joins', () => {
    const plan = planIncidents([alarm(0), alarm(MINUTE, { account: '222222222222' }), alarm(2 * MINUTE)]);
    expect(plan).toEqual([
      { outcome: 'spawn', incident: 0 },
      { outcome: 'spawn', incident: 1 },
      { outcome: 'join', incident: 0 },
    ]);
  });

  it.each(['OK', 'INSUFFICIENT_DATA'] as AlarmState[])('never spawns nor extends for %s', (state) => {
    const plan = planIncidents([alarm(0, { state }), alarm(10 * MINUTE), alarm(65 * MINUTE, { state }), alarm(125 * MINUTE)]);
    expect(plan).toEqual([
      { outcome: 'recorded', incident: null },
      { outcome: 'spawn', incident: 0 },
      { outcome: 'recorded', incident: 0 },
      // The recovery at +65 min did not roll the window: +125 min is 115 min after the last ALARM.
      { outcome: 'spawn', incident: 1 },
    ]);
  });

  it('joins the earliest incident when an out-of-order alarm bridges two, without merging them', () => {
    const plan = planIncidents([alarm(0), alarm(110 * MINUTE), alarm(55 * MINUTE), alarm(112 * MINUTE)]);
    expect(plan).toEqual([
      { outcome: 'spawn', incident: 0 },
      { outcome: 'spawn', incident: 1 },
      { outcome: 'join', incident: 0 },
      // +55 min is in reach of both; incident 0 then reaches +115 min, so +112 min could join either too.
      { outcome: 'join', incident: 0 },
    ]);
  });

  it('follows a configured policy', () => {
    const plan = planIncidents([alarm(0), alarm(10 * MINUTE), alarm(20 * MINUTE + 1)], { windowMs: 10 * MINUTE, capMs: HOUR });
    expect(plan.map((a) => a.outcome)).toEqual(['spawn', 'join', 'spawn']);
  });
});
