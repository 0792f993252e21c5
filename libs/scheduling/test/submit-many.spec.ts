import { createPrismaClient, IngestRepository, PrismaClient } from '@agent-conductor/db';
import { AlarmFacts, classifyMessage, IncidentAssignment, planIncidents } from '@agent-conductor/scheduling-domain';
import { DEFAULT_INCIDENT_POLICY, SchedulingService, SubmitOutcome, SubmittedMessage } from '../src';
import { databaseUrl, emptyTables, eventBridgeAlarm, fixture, seededRandom } from './support';

const REPOSITORY = '/srv/git/sample-app.git';
const MINUTE = 60_000;
const T0 = new Date('2026-05-12T20:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

/** A real statement failure for one message id, as a constraint or a bug would raise it (not a data exception, which is stored as rejected). */
const POISON_TRIGGER = [
  `CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF NEW.sqs_message_id LIKE 'poison-%' THEN RAISE EXCEPTION 'refusing %', NEW.sqs_message_id; END IF;
     RETURN NEW;
   END $$`,
  'CREATE TRIGGER refuse_poison BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_poison()',
];

describe('SchedulingService.submitMany (real Postgres)', () => {
  let prisma: PrismaClient;
  let ingest: IngestRepository;
  let scheduling: SchedulingService;
  let counter = 0;
  const nextId = (): string => `batch-${(counter += 1)}`;

  beforeAll(() => {
    prisma = createPrismaClient(databaseUrl());
    ingest = new IngestRepository({ databaseUrl: databaseUrl() });
    scheduling = new SchedulingService(ingest, { defaultRepositoryUrl: REPOSITORY, incidentPolicy: DEFAULT_INCIDENT_POLICY });
  });
  afterAll(async () => {
    await ingest.close();
    await prisma.$disconnect();
  });
  beforeEach(() => emptyTables(prisma));
  afterEach(async () => {
    await prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_poison ON deliveries');
    await prisma.$executeRawUnsafe('DROP FUNCTION IF EXISTS refuse_poison()');
  });

  it('commits the neighbours of a message whose transaction fails, and reports each outcome in input order', async () => {
    for (const statement of POISON_TRIGGER) await prisma.$executeRawUnsafe(statement);
    const messages: SubmittedMessage[] = [
      { messageId: nextId(), body: eventBridgeAlarm({ account: '111111111111', time: at(0) }), receivedAt: new Date() },
      // Same account as its neighbours: its lane goes on after it failed.
      { messageId: 'poison-1', body: eventBridgeAlarm({ account: '111111111111', time: at(MINUTE) }), receivedAt: new Date() },
      { messageId: nextId(), body: eventBridgeAlarm({ account: '111111111111', time: at(2 * MINUTE) }), receivedAt: new Date() },
      { messageId: nextId(), body: fixture('jira-issue.json'), receivedAt: new Date() },
      { messageId: 'bad-date', body: fixture('jira-issue.json'), receivedAt: new Date(Number.NaN) },
      { messageId: nextId(), body: 'not json {', receivedAt: new Date() },
    ];

    const outcomes = await scheduling.submitMany(messages);

    expect(outcomes.map((outcome) => (outcome.ok ? outcome.result.classification : 'failed'))).toEqual([
      'alarm',
      'failed',
      'alarm',
      'ticket',
      'failed',
      'rejected',
    ]);
    expect(errorOf(outcomes[1])).toMatch(/refusing poison-1/);
    expect(errorOf(outcomes[4])).toMatch(/receivedAt of bad-date is not a valid date/);
    const stored = await prisma.delivery.findMany({ select: { sqsMessageId: true } });
    expect(stored.map((row) => row.sqsMessageId).sort()).toEqual(
      [messages[0], messages[2], messages[3], messages[5]].map((message) => message?.messageId).sort(),
    );
    // The alarm after the poison one joined the incident of the one before it.
    const [first, , third] = outcomes;
    expect(first?.ok && first.result.alarm?.outcome).toBe('spawned');
    expect(third?.ok && third.result.alarm).toMatchObject({ outcome: 'joined', incidentId: first?.ok ? first.result.alarm?.incidentId : 'none' });
  });

  it('decides each account in arrival order, as the in-memory reference (planIncidents) does, in batches of ten', async () => {
    const random = seededRandom(20261203);
    const bodies: string[] = [];
    for (let i = 0; i < 80; i += 1) {
      const account = ['333333333333', '444444444444', '555555555555', '666666666666'][Math.floor(random() * 4)] ?? '';
      // Out-of-order event times around the window's edge: the outcome depends on the order of decision.
      const time = at(Math.floor(i * 15 * MINUTE + (random() - 0.5) * 120 * MINUTE));
      bodies.push(eventBridgeAlarm({ account, time, state: random() < 0.1 ? 'OK' : 'ALARM' }));
    }
    const facts = bodies.map((body): AlarmFacts => {
      const classified = classifyMessage(body);
      if (classified.classification !== 'alarm') throw new Error(JSON.stringify(classified));
      return classified.alarm;
    });
    const expected = planIncidents(facts, DEFAULT_INCIDENT_POLICY);

    const outcomes: SubmitOutcome[] = [];
    for (let first = 0; first < bodies.length; first += 10) {
      const batch = bodies.slice(first, first + 10).map((body) => ({ messageId: nextId(), body, receivedAt: new Date() }));
      outcomes.push(...(await scheduling.submitMany(batch)));
    }
    expect(numbered(outcomes)).toEqual(expected);
    expect(expected.filter((assignment) => assignment.outcome === 'spawn').length).toBeGreaterThan(4);
  });
});

function errorOf(outcome: SubmitOutcome | undefined): string {
  if (!outcome || outcome.ok) return 'no error';
  return outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
}

/** Incidents numbered by the position of their spawning alarm, as planIncidents numbers them. */
function numbered(outcomes: SubmitOutcome[]): IncidentAssignment[] {
  const numbering = new Map<string, number>();
  return outcomes.map((outcome): IncidentAssignment => {
    if (!outcome.ok || !outcome.result.alarm) throw new Error(`not an alarm outcome: ${errorOf(outcome)}`);
    const { incidentId, outcome: kind } = outcome.result.alarm;
    if (incidentId !== null && kind === 'spawned') numbering.set(incidentId, numbering.size);
    const incident = incidentId === null ? null : (numbering.get(incidentId) ?? -1);
    if (kind === 'spawned') return { outcome: 'spawn', incident: incident ?? -1 };
    if (kind === 'joined') return { outcome: 'join', incident: incident ?? -1 };
    return { outcome: 'recorded', incident };
  });
}
