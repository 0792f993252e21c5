import { createPrismaClient, INCIDENT_TASK_ALARM_LIMIT, IngestRepository, PrismaClient } from '@agent-conductor/db';
import { AlarmFacts, classifyMessage, planIncidents } from '@agent-conductor/scheduling-domain';
import { DEFAULT_INCIDENT_POLICY, IncidentPolicy, RecordMessageResult, SchedulingService } from '../src';
import { AlarmSpec, databaseUrl, emptyTables, eventBridgeAlarm, fixture, seededRandom, snsAlarm } from './support';

const REPOSITORY = '/srv/git/sample-app.git';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = new Date('2026-05-12T20:00:00.000Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
const ACCOUNT = '111111111111';
const OTHER_ACCOUNT = '222222222222';

// Each service ingests through a pg pool of its own (separate connections, like replicas); closed after the file.
const ingestRepositories: IngestRepository[] = [];
afterAll(() => Promise.all(ingestRepositories.splice(0).map((repository) => repository.close())));

function schedulingFor(incidentPolicy: IncidentPolicy = DEFAULT_INCIDENT_POLICY): SchedulingService {
  const ingest = new IngestRepository({ databaseUrl: databaseUrl() });
  ingestRepositories.push(ingest);
  return new SchedulingService(ingest, { defaultRepositoryUrl: REPOSITORY, incidentPolicy });
}

describe('SchedulingService: incidents from CloudWatch alarms (real Postgres)', () => {
  let prisma: PrismaClient;
  let scheduling: SchedulingService;
  let counter = 0;
  const nextId = (): string => `msg-${(counter += 1)}`;

  /** Submits an EventBridge ALARM of ACCOUNT at T0 + offset, received "now": the receive time must not matter. */
  const alarmAt = (offsetMs: number, spec: Partial<AlarmSpec> = {}, service?: SchedulingService): Promise<RecordMessageResult> =>
    (service ?? scheduling).submit({
      messageId: nextId(),
      body: eventBridgeAlarm({ account: ACCOUNT, time: at(offsetMs), ...spec }),
      receivedAt: new Date(),
    });

  const incidentIdOf = (result: RecordMessageResult): string | null | undefined => result.alarm?.incidentId;
  const spawnCount = (results: RecordMessageResult[]): number => results.flatMap((result) => result.decisions).length;

  beforeAll(() => {
    prisma = createPrismaClient(databaseUrl());
    scheduling = schedulingFor();
  });
  afterAll(() => prisma.$disconnect());
  beforeEach(() => emptyTables(prisma));

  describe('spawning', () => {
    it('turns an EventBridge ALARM into one pending incident job keyed by account, with the incident TASK.md', async () => {
      const body = fixture('cloudwatch-alarm.eventbridge.json');
      const result = await scheduling.submit({ messageId: 'eb-1', body, receivedAt: new Date('2026-05-12T21:30:00Z') });

      expect(result).toEqual({
        deliveryId: expect.any(String),
        duplicate: false,
        classification: 'alarm',
        rejectionReason: null,
        decisions: [{ jobId: expect.any(String), kind: 'incident', key: '123456789012', repository: REPOSITORY, incidentId: expect.any(String) }],
        alarm: { alarmId: expect.any(String), incidentId: result.decisions[0]?.incidentId, outcome: 'spawned' },
      });
      const job = await prisma.job.findUniqueOrThrow({ where: { id: result.decisions[0]?.jobId }, include: { incidents: true } });
      expect(job).toMatchObject({ kind: 'incident', key: '123456789012', status: 'pending', ticketId: null, deliveryId: result.deliveryId, repository: REPOSITORY });
      expect(job.incidents).toEqual([
        expect.objectContaining({
          id: result.decisions[0]?.incidentId,
          account: '123456789012',
          alarmCount: 1,
          firstEventAt: new Date('2026-05-12T20:58:58.000Z'),
          lastEventAt: new Date('2026-05-12T20:58:58.000Z'),
        }),
      ]);
      for (const text of [
        '123456789012',
        'us-west-2',
        'api-high-cpu',
        'Threshold Crossed: 1 datapoint [99.8 (12/05/26 20:58:58)] was greater than the threshold (20.0).',
        'AWS/EC2 / CPUUtilization (InstanceId=i-0abc123def4567890)',
      ]) {
        expect(job.taskMarkdown).toContain(text);
      }
      const stored = await prisma.alarm.findUniqueOrThrow({ where: { deliveryId: result.deliveryId } });
      expect(stored).toMatchObject({
        account: '123456789012',
        region: 'us-west-2',
        alarmName: 'api-high-cpu',
        state: 'ALARM',
        incidentId: job.incidents[0]?.id,
        // The event's own time, not the receive time.
        eventTime: new Date('2026-05-12T20:58:58.000Z'),
        metrics: [{ namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc123def4567890' } }],
      });
      expect((await prisma.delivery.findUniqueOrThrow({ where: { id: result.deliveryId } })).body).toBe(body);
    });

    it('turns an SNS-delivered ALARM into an incident timed by StateChangeTime', async () => {
      const result = await scheduling.submit({ messageId: 'sns-1', body: fixture('cloudwatch-alarm.sns.json'), receivedAt: new Date() });

      expect(result.decisions).toEqual([
        { jobId: expect.any(String), kind: 'incident', key: '123456789012', repository: REPOSITORY, incidentId: expect.any(String) },
      ]);
      const incident = await prisma.incident.findFirstOrThrow({ include: { job: true } });
      expect(incident.firstEventAt).toEqual(new Date('2026-05-12T21:05:00.000Z'));
      expect(incident.job.taskMarkdown).toContain('orders-db-free-storage');
      expect(incident.job.taskMarkdown).toContain('AWS/RDS / FreeStorageSpace (DBInstanceIdentifier=orders-db)');
      expect(incident.job.taskMarkdown).toContain('(us-west-2)');
    });

    it('chains an SNS alarm and an EventBridge alarm of one account into one incident', async () => {
      const first = await scheduling.submit({ messageId: nextId(), body: eventBridgeAlarm({ account: ACCOUNT, time: at(0) }), receivedAt: new Date() });
      const second = await scheduling.submit({ messageId: nextId(), body: snsAlarm({ account: ACCOUNT, time: at(30 * MINUTE) }), receivedAt: new Date() });
      expect(second).toMatchObject({ decisions: [], alarm: { outcome: 'joined', incidentId: incidentIdOf(first) } });
      expect(await prisma.job.count()).toBe(1);
    });
  });

  describe('window (60 minutes, inclusive, rolling)', () => {
    it('joins an ALARM exactly 60 minutes after the latest one', async () => {
      const first = await alarmAt(0);
      const joined = await alarmAt(60 * MINUTE);
      expect(joined).toMatchObject({ decisions: [], alarm: { outcome: 'joined', incidentId: incidentIdOf(first) } });
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 2, firstEventAt: at(0), lastEventAt: at(60 * MINUTE) });
    });

    it('starts a new incident, with its own spawn decision, 60 minutes + 1 second after the latest ALARM', async () => {
      const first = await alarmAt(0);
      const second = await alarmAt(60 * MINUTE + 1000);
      expect(second.decisions).toHaveLength(1);
      expect(second.alarm).toMatchObject({ outcome: 'spawned' });
      expect(incidentIdOf(second)).not.toBe(incidentIdOf(first));
      expect(await prisma.incident.count()).toBe(2);
      expect(await prisma.job.count({ where: { kind: 'incident' } })).toBe(2);
    });

    it('rolls: each ALARM extends the reach, so a chain of 50-minute gaps stays one incident for hours', async () => {
      const results = [];
      for (let i = 0; i <= 6; i += 1) {
        results.push(await alarmAt(i * 50 * MINUTE));
      }
      expect(spawnCount(results)).toBe(1);
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 7, firstEventAt: at(0), lastEventAt: at(300 * MINUTE) });
    });

    it('times alarms by their event time, not by when they were received', async () => {
      const receivedFarApart = [
        await scheduling.submit({ messageId: nextId(), body: eventBridgeAlarm({ account: ACCOUNT, time: at(0) }), receivedAt: at(0) }),
        await scheduling.submit({ messageId: nextId(), body: eventBridgeAlarm({ account: ACCOUNT, time: at(10 * MINUTE) }), receivedAt: at(5 * HOUR) }),
      ];
      expect(spawnCount(receivedFarApart)).toBe(1);
      const receivedTogether = [
        await scheduling.submit({ messageId: nextId(), body: eventBridgeAlarm({ account: OTHER_ACCOUNT, time: at(0) }), receivedAt: at(0) }),
        await scheduling.submit({ messageId: nextId(), body: eventBridgeAlarm({ account: OTHER_ACCOUNT, time: at(2 * HOUR) }), receivedAt: at(0) }),
      ];
      expect(spawnCount(receivedTogether)).toBe(2);
    });

    it('follows a configured window', async () => {
      const tight = schedulingFor({ windowMs: 10 * MINUTE, capMs: HOUR });
      const results = [await alarmAt(0, {}, tight), await alarmAt(10 * MINUTE, {}, tight), await alarmAt(20 * MINUTE + 1, {}, tight)];
      expect(results.map((result) => result.alarm?.outcome)).toEqual(['spawned', 'joined', 'spawned']);
    });
  });

  describe('cap (24 hours from the first ALARM)', () => {
    it('accepts an ALARM exactly 24 hours after the first, and starts a new incident 1 ms later', async () => {
      const results = [];
      for (let i = 0; i <= 48; i += 1) {
        results.push(await alarmAt(i * 30 * MINUTE));
      }
      expect(spawnCount(results)).toBe(1);
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 49, firstEventAt: at(0), lastEventAt: at(24 * HOUR) });

      const beyond = await alarmAt(24 * HOUR + 1);
      expect(beyond.alarm?.outcome).toBe('spawned');
      expect(beyond.decisions).toHaveLength(1);
      expect(await prisma.incident.findUniqueOrThrow({ where: { id: incidentIdOf(beyond) ?? '' } })).toMatchObject({
        firstEventAt: at(24 * HOUR + 1),
        alarmCount: 1,
      });
      // The capped incident is unchanged.
      expect(await prisma.incident.findUniqueOrThrow({ where: { id: incidentIdOf(results[0] as RecordMessageResult) ?? '' } })).toMatchObject({
        alarmCount: 49,
        lastEventAt: at(24 * HOUR),
      });
    });

    it('measures an alarm earlier than the first one against the latest one', async () => {
      await alarmAt(0);
      for (let i = 1; i <= 47; i += 1) {
        await alarmAt(i * 30 * MINUTE);
      }
      // Span is now 0 .. 23.5 h: -30 min makes it exactly 24 h, -30 min - 1 ms would exceed it.
      expect((await alarmAt(-30 * MINUTE - 1)).alarm?.outcome).toBe('spawned');
      expect((await alarmAt(-30 * MINUTE, { name: 'earlier' })).alarm?.outcome).toBe('joined');
    });
  });

  describe('out of order', () => {
    it('joins late alarms inside the reach, including ones earlier than the first alarm, and widens the span', async () => {
      const results = [
        await alarmAt(0),
        await alarmAt(50 * MINUTE),
        await alarmAt(20 * MINUTE),
        await alarmAt(-55 * MINUTE),
        await alarmAt(-114 * MINUTE),
      ];
      expect(results.map((result) => result.alarm?.outcome)).toEqual(['spawned', 'joined', 'joined', 'joined', 'joined']);
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({
        alarmCount: 5,
        firstEventAt: at(-114 * MINUTE),
        lastEventAt: at(50 * MINUTE),
      });
    });

    it('joins the earliest incident when a late alarm falls within reach of two, without merging them', async () => {
      const first = await alarmAt(0);
      const second = await alarmAt(110 * MINUTE);
      const bridge = await alarmAt(55 * MINUTE);
      expect(incidentIdOf(second)).not.toBe(incidentIdOf(first));
      expect(bridge).toMatchObject({ decisions: [], alarm: { outcome: 'joined', incidentId: incidentIdOf(first) } });
      expect(await prisma.incident.count()).toBe(2);
    });
  });

  describe('accounts', () => {
    it('never joins an alarm of another account, whatever its time', async () => {
      const mine = await alarmAt(0);
      const theirs = await alarmAt(0, { account: OTHER_ACCOUNT });
      const mineAgain = await alarmAt(MINUTE);
      expect(theirs.decisions).toEqual([expect.objectContaining({ kind: 'incident', key: OTHER_ACCOUNT })]);
      expect(incidentIdOf(theirs)).not.toBe(incidentIdOf(mine));
      expect(mineAgain).toMatchObject({ decisions: [], alarm: { incidentId: incidentIdOf(mine) } });
    });
  });

  describe('OK and INSUFFICIENT_DATA', () => {
    it.each(['OK', 'INSUFFICIENT_DATA'] as const)('stores %s without an incident or a job when none covers it', async (state) => {
      const result = await alarmAt(0, { state });
      expect(result).toMatchObject({ classification: 'alarm', decisions: [], alarm: { outcome: 'recorded', incidentId: null } });
      expect(await prisma.alarm.findFirstOrThrow()).toMatchObject({ state, incidentId: null, deliveryId: result.deliveryId });
      expect(await prisma.incident.count()).toBe(0);
      expect(await prisma.job.count()).toBe(0);
    });

    it.each(['OK', 'INSUFFICIENT_DATA'] as const)('records %s against its incident without extending the window', async (state) => {
      const first = await alarmAt(0);
      const recovery = await alarmAt(50 * MINUTE, { state });
      expect(recovery).toMatchObject({ decisions: [], alarm: { outcome: 'recorded', incidentId: incidentIdOf(first) } });
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 1, lastEventAt: at(0) });
      // 115 min after the only ALARM: the recovery at +50 did not roll the window.
      expect((await alarmAt(115 * MINUTE)).alarm?.outcome).toBe('spawned');
    });
  });

  describe('redelivery and garbage', () => {
    it('answers a redelivered ALARM with the original outcome and records nothing', async () => {
      const body = eventBridgeAlarm({ account: ACCOUNT, time: at(0) });
      const first = await scheduling.submit({ messageId: 'same', body, receivedAt: at(0) });
      const again = await scheduling.submit({ messageId: 'same', body, receivedAt: at(HOUR) });
      expect(again).toEqual({ ...first, duplicate: true });
      expect(await prisma.alarm.count()).toBe(1);
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 1 });
      expect(await prisma.job.count()).toBe(1);
    });

    it('answers a redelivered joining ALARM or OK with the original outcome and no decision', async () => {
      await alarmAt(0);
      for (const state of ['ALARM', 'OK'] as const) {
        const body = eventBridgeAlarm({ account: ACCOUNT, time: at(10 * MINUTE), state });
        const messageId = `again-${state}`;
        const first = await scheduling.submit({ messageId, body, receivedAt: new Date() });
        const again = await scheduling.submit({ messageId, body, receivedAt: new Date() });
        expect(again).toEqual({ ...first, duplicate: true });
        expect(again.decisions).toEqual([]);
      }
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 2 });
      expect(await prisma.alarm.count()).toBe(3);
    });

    it.each([
      ['not JSON', 'this is not json {', /not valid JSON/],
      ['an alarm without an account', eventBridgeAlarm({ account: '', time: at(0) }), /no AWS account id/],
      ['an alarm with an unknown state', eventBridgeAlarm({ account: ACCOUNT, time: at(0), state: 'BROKEN' as 'OK' }), /invalid state value/],
    ])('stores %s as rejected: no alarm row, no incident', async (_, body, reason) => {
      const result = await scheduling.submit({ messageId: nextId(), body, receivedAt: new Date() });
      expect(result).toMatchObject({ classification: 'rejected', decisions: [] });
      expect(result.rejectionReason).toMatch(reason);
      expect(result.alarm).toBeUndefined();
      expect(await prisma.alarm.count()).toBe(0);
      expect(await prisma.incident.count()).toBe(0);
      expect(await prisma.delivery.count()).toBe(1);
    });
  });

  describe('the incident job TASK.md', () => {
    it('is re-rendered with every alarm so far while the job is pending, and frozen once it is claimed', async () => {
      const first = await alarmAt(0, { name: 'api-high-cpu' });
      const jobId = first.decisions[0]?.jobId ?? '';
      await alarmAt(20 * MINUTE, { name: 'api-5xx', reason: 'Five hundreds' });
      await alarmAt(-10 * MINUTE, { name: 'db-connections' });
      const pending = (await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).taskMarkdown;
      expect(pending).toContain('- **Alarms:** db-connections, api-high-cpu, api-5xx\n');
      expect(pending).toContain('- **Alarms so far:** 3\n');
      expect(pending).toContain('### 2. api-high-cpu: ALARM at 2026-05-12T20:00:00.000Z');
      expect(pending).toContain('- **State reason:** Five hundreds\n');

      // What the conductor's claim does: from here on the task archive may have been built.
      await prisma.job.update({ where: { id: jobId }, data: { status: 'launching' } });
      const joined = await alarmAt(30 * MINUTE, { name: 'late-alarm' });
      expect(joined.alarm).toMatchObject({ outcome: 'joined', incidentId: incidentIdOf(first) });
      expect((await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).taskMarkdown).toBe(pending);
      expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ alarmCount: 4 });
    });

    it('lists at most the first INCIDENT_TASK_ALARM_LIMIT alarms and counts the rest', async () => {
      const total = INCIDENT_TASK_ALARM_LIMIT + 3;
      let jobId = '';
      for (let i = 0; i < total; i += 1) {
        const result = await alarmAt(i * MINUTE, { name: `alarm-${i}` });
        jobId ||= result.decisions[0]?.jobId ?? '';
      }
      const task = (await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).taskMarkdown;
      expect(task).toContain(`- **Alarms so far:** ${total}\n`);
      expect(task).toContain(`### ${INCIDENT_TASK_ALARM_LIMIT}. alarm-${INCIDENT_TASK_ALARM_LIMIT - 1}:`);
      expect(task).not.toContain(`alarm-${INCIDENT_TASK_ALARM_LIMIT}:`);
      expect(task).toContain('_3 later alarm(s) of this incident are not listed here._');
    });
  });

  it('agrees with the in-memory reference (planIncidents) on a shuffled multi-account scenario', async () => {
    const random = seededRandom(20260512);
    const bodies: string[] = [];
    for (let i = 0; i < 120; i += 1) {
      const account = ['333333333333', '444444444444', '555555555555'][Math.floor(random() * 3)] ?? '';
      // Gaps around the window edge, jitter for out-of-order arrival, a few recoveries.
      const time = at(Math.floor(i * 20 * MINUTE + (random() - 0.5) * 80 * MINUTE));
      const state = random() < 0.15 ? 'OK' : 'ALARM';
      bodies.push(random() < 0.5 ? eventBridgeAlarm({ account, time, state }) : snsAlarm({ account, time, state }));
    }
    const facts = bodies.map((body): AlarmFacts => {
      const classified = classifyMessage(body);
      if (classified.classification !== 'alarm') throw new Error(JSON.stringify(classified));
      return classified.alarm;
    });
    const expected = planIncidents(facts, DEFAULT_INCIDENT_POLICY);

    const results: RecordMessageResult[] = [];
    for (const body of bodies) {
      results.push(await scheduling.submit({ messageId: nextId(), body, receivedAt: new Date() }));
    }
    // Incident ids are numbered by spawn order so both sides can be compared.
    const numbering = new Map<string, number>();
    const actual = results.map((result) => {
      const id = result.alarm?.incidentId ?? null;
      if (id !== null && result.alarm?.outcome === 'spawned') numbering.set(id, numbering.size);
      const outcome = result.alarm?.outcome === 'spawned' ? 'spawn' : result.alarm?.outcome === 'joined' ? 'join' : 'recorded';
      return { outcome, incident: id === null ? null : (numbering.get(id) ?? -1) };
    });
    expect(actual).toEqual(expected);
    const spawns = expected.filter((assignment) => assignment.outcome === 'spawn').length;
    expect(spawns).toBeGreaterThan(3);
    expect(expected.some((assignment) => assignment.outcome === 'join')).toBe(true);
    expect(await prisma.job.count()).toBe(spawns);
  });

  describe('under concurrency (separate clients = separate connections, like scheduler replicas)', () => {
    const services: SchedulingService[] = [];
    beforeAll(() => {
      for (let i = 0; i < 4; i += 1) {
        services.push(schedulingFor());
      }
    });

    it('creates exactly one incident and one job for 20 concurrent ALARMs of one account in one window', async () => {
      for (let round = 0; round < 3; round += 1) {
        const account = `99999999900${round}`;
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (services[i % services.length] as SchedulingService).submit({
              messageId: `race-${round}-${i}`,
              // Shuffled times within 40 minutes: every one of them could start the incident.
              body: eventBridgeAlarm({ account, time: at(((i * 7) % 20) * 2 * MINUTE), name: `alarm-${i}` }),
              receivedAt: new Date(),
            }),
          ),
        );
        expect(spawnCount(results)).toBe(1);
        expect(new Set(results.map(incidentIdOf)).size).toBe(1);
        expect(await prisma.incident.count({ where: { account } })).toBe(1);
        expect(await prisma.job.count({ where: { key: account } })).toBe(1);
        expect(await prisma.incident.findFirstOrThrow({ where: { account } })).toMatchObject({
          alarmCount: 20,
          firstEventAt: at(0),
          lastEventAt: at(38 * MINUTE),
        });
        const task = (await prisma.job.findFirstOrThrow({ where: { key: account } })).taskMarkdown;
        expect(task).toContain('- **Alarms so far:** 20\n');
      }
    });

    it('creates one incident per account when many accounts alarm at once', async () => {
      const accounts = Array.from({ length: 12 }, (_, i) => `7000000000${String(i).padStart(2, '0')}`);
      const submissions = accounts.flatMap((account, a) =>
        [0, 1, 2].map((k) => ({ account, time: at(k * 5 * MINUTE), index: a * 3 + k })),
      );
      const results = await Promise.all(
        submissions.map(({ account, time, index }) =>
          (services[index % services.length] as SchedulingService).submit({
            messageId: `many-${index}`,
            body: snsAlarm({ account, time }),
            receivedAt: new Date(),
          }),
        ),
      );
      expect(spawnCount(results)).toBe(accounts.length);
      expect(results.flatMap((result) => result.decisions.map((decision) => decision.key)).sort()).toEqual(accounts);
      const grouped = await prisma.incident.groupBy({ by: ['account'], _count: { _all: true }, _sum: { alarmCount: true } });
      expect(grouped).toHaveLength(accounts.length);
      expect(grouped.every((group) => group._count._all === 1 && group._sum.alarmCount === 3)).toBe(true);
    });

    it('records one delivery when the same alarm message id arrives at once through every client', async () => {
      const body = eventBridgeAlarm({ account: ACCOUNT, time: at(0) });
      const results = await Promise.all(services.map((service) => service.submit({ messageId: 'same-alarm', body, receivedAt: new Date() })));
      expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
      expect(new Set(results.map((result) => result.decisions[0]?.jobId)).size).toBe(1);
      expect(await prisma.alarm.count()).toBe(1);
      expect(await prisma.job.count()).toBe(1);
    });
  });
});
