import type { AlarmFacts, ClassifiedMessage, TicketFacts } from '@agent-conductor/scheduling-domain';
import { PrismaClient } from '../generated/prisma/client';
import { createPrismaClient } from '../prisma-client';
import { serverUrl, truncateAppTables } from '../../test/support';
import { IngestRepository, RecordMessageInput } from './ingest.repository';

const REPOSITORY = '/srv/git/sample-app.git';

function ticketFacts(key: string, overrides: Partial<TicketFacts> = {}): TicketFacts {
  return {
    key,
    externalId: '10002',
    projectKey: key.split('-')[0] ?? null,
    summary: `Summary of ${key}`,
    description: 'Users are redirected to a blank page.',
    labels: ['auth'],
    components: ['Authentication'],
    issueType: 'Bug',
    priority: 'High',
    ...overrides,
  };
}

function ticketMessage(
  messageId: string,
  ticket: TicketFacts,
  source: 'jira-issue' | 'jira-webhook' = 'jira-issue',
): RecordMessageInput {
  return {
    sqsMessageId: messageId,
    receivedAt: new Date('2026-05-12T18:22:14.000Z'),
    body: JSON.stringify({ key: ticket.key, source }),
    classified: { classification: 'ticket', source, ticket },
    repository: REPOSITORY,
    taskMarkdown: `# ${ticket.key}\n${ticket.summary}\n`,
  };
}

const alarm: AlarmFacts = {
  account: '123456789012',
  region: 'us-west-2',
  alarmName: 'api-high-cpu',
  state: 'ALARM',
  reason: 'Threshold Crossed',
  eventTime: new Date('2026-05-12T20:58:58.000Z'),
  alarmArn: 'arn:aws:cloudwatch:us-west-2:123456789012:alarm:api-high-cpu',
  metrics: [{ namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { InstanceId: 'i-1' } }],
};

describe('IngestRepository', () => {
  let prisma: PrismaClient;
  let repository: IngestRepository;

  beforeAll(() => {
    prisma = createPrismaClient(serverUrl());
    repository = new IngestRepository({ databaseUrl: serverUrl() });
  });
  afterAll(() => Promise.all([prisma.$disconnect(), repository.close()]));
  beforeEach(() => truncateAppTables(serverUrl()));

  it('turns a ticket into a pending job that carries the rendered TASK.md', async () => {
    const input = ticketMessage('msg-1', ticketFacts('ENG-123'));
    const result = await repository.recordMessage(input);

    expect(result).toEqual({
      deliveryId: expect.any(String),
      duplicate: false,
      classification: 'ticket',
      rejectionReason: null,
      decisions: [{ jobId: expect.any(String), kind: 'ticket', key: 'ENG-123', repository: REPOSITORY }],
    });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: result.decisions[0]?.jobId }, include: { ticket: true } });
    expect(job).toMatchObject({
      kind: 'ticket',
      key: 'ENG-123',
      status: 'pending',
      attempts: 0,
      repository: REPOSITORY,
      taskMarkdown: input.taskMarkdown,
      deliveryId: result.deliveryId,
    });
    expect(job.ticket).toMatchObject({ key: 'ENG-123', labels: ['auth'], components: ['Authentication'], projectKey: 'ENG' });
    const delivery = await prisma.delivery.findUniqueOrThrow({ where: { id: result.deliveryId } });
    expect(delivery).toMatchObject({ sqsMessageId: 'msg-1', body: input.body, ticketId: job.ticketId, classification: 'ticket' });
    expect(delivery.receivedAt.toISOString()).toBe('2026-05-12T18:22:14.000Z');
  });

  it('answers a repeated message id with the original outcome and decisions, recording nothing new', async () => {
    const first = await repository.recordMessage(ticketMessage('msg-1', ticketFacts('ENG-123')));
    const again = await repository.recordMessage(ticketMessage('msg-1', ticketFacts('ENG-123', { summary: 'changed' })));

    expect(again).toEqual({ ...first, duplicate: true });
    expect(again.decisions).toHaveLength(1);
    expect(await prisma.delivery.count()).toBe(1);
    expect(await prisma.job.count()).toBe(1);
    expect((await prisma.ticket.findUniqueOrThrow({ where: { key: 'ENG-123' } })).summary).toBe('Summary of ENG-123');
  });

  it('keeps the original classification when a reused message id carries something else', async () => {
    const first = await repository.recordMessage({
      sqsMessageId: 'msg-r',
      receivedAt: new Date(),
      body: 'not json',
      classified: { classification: 'rejected', reason: 'body is not JSON' },
      repository: REPOSITORY,
    });
    const again = await repository.recordMessage(ticketMessage('msg-r', ticketFacts('ENG-9')));
    expect(again).toEqual({ ...first, duplicate: true });
    expect(again).toMatchObject({ classification: 'rejected', rejectionReason: 'body is not JSON', decisions: [] });
    expect(await prisma.ticket.count()).toBe(0);
  });

  it('never creates a second job for a ticket key, whichever message or source delivers it', async () => {
    const first = await repository.recordMessage(ticketMessage('msg-1', ticketFacts('ENG-123')));
    const redelivered = await repository.recordMessage(
      ticketMessage('msg-2', ticketFacts('ENG-123', { summary: 'Login fails (updated)', labels: ['auth', 'p1'] })),
    );
    const webhook = await repository.recordMessage(ticketMessage('msg-3', ticketFacts('ENG-123'), 'jira-webhook'));

    expect(redelivered).toMatchObject({ duplicate: false, classification: 'ticket', decisions: [] });
    expect(webhook).toMatchObject({ duplicate: false, classification: 'ticket', decisions: [] });
    expect(await prisma.job.count()).toBe(1);
    expect(await prisma.delivery.count()).toBe(3);
    const ticket = await prisma.ticket.findUniqueOrThrow({ where: { key: 'ENG-123' }, include: { deliveries: true, job: true } });
    expect(ticket.deliveries).toHaveLength(3);
    expect(ticket.job?.id).toBe(first.decisions[0]?.jobId);
    // The last delivery's facts win on the ticket; the job keeps its original TASK.md.
    expect(ticket.labels).toEqual(['auth']);
    expect(ticket.job?.taskMarkdown).toBe('# ENG-123\nSummary of ENG-123\n');
    const afterUpdate = await prisma.delivery.findUniqueOrThrow({ where: { id: redelivered.deliveryId } });
    expect(afterUpdate.ticketId).toBe(ticket.id);
  });

  it('updates the ticket text on a later delivery', async () => {
    await repository.recordMessage(ticketMessage('msg-1', ticketFacts('ENG-123')));
    await repository.recordMessage(
      ticketMessage('msg-2', ticketFacts('ENG-123', { summary: 'New summary', description: 'New text', labels: ['x'] })),
    );
    expect(await prisma.ticket.findUniqueOrThrow({ where: { key: 'ENG-123' } })).toMatchObject({
      summary: 'New summary',
      description: 'New text',
      labels: ['x'],
    });
  });

  it('stores a rejected message with its reason and spawns nothing', async () => {
    const result = await repository.recordMessage({
      sqsMessageId: 'msg-bad',
      receivedAt: new Date(),
      body: '{"hello":',
      classified: { classification: 'rejected', reason: 'body is not valid JSON' },
      repository: REPOSITORY,
    });
    expect(result).toMatchObject({ duplicate: false, classification: 'rejected', rejectionReason: 'body is not valid JSON', decisions: [] });
    expect(await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: 'msg-bad' } })).toMatchObject({
      body: '{"hello":',
      classification: 'rejected',
      rejectionReason: 'body is not valid JSON',
      ticketId: null,
    });
    expect(await prisma.job.count()).toBe(0);
  });

  it('records a ticket Postgres refuses for its content (a data exception) as rejected, with the reason', async () => {
    // The classifier rejects NUL itself; this ticket skips it, as anything it misses would.
    const input = ticketMessage('msg-nul', ticketFacts('ENG-9', { summary: 'before\0after' }));
    const result = await repository.recordMessage({ ...input, body: '{"summary":"before\0after"}' });

    expect(result).toMatchObject({ duplicate: false, classification: 'rejected', decisions: [] });
    expect(result.rejectionReason).toMatch(/^Postgres refused to store this ticket \(SQLSTATE 22021: /);
    expect(result.rejectionReason).not.toContain('\0');
    expect(await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: 'msg-nul' } })).toMatchObject({
      id: result.deliveryId,
      body: '{"summary":"before\\u0000after"}',
      classification: 'rejected',
      rejectionReason: result.rejectionReason,
    });
    expect(await prisma.ticket.count()).toBe(0);
    expect(await prisma.job.count()).toBe(0);
    // A redelivery is answered from the stored rejection.
    expect(await repository.recordMessage({ ...input, body: '{"summary":"before\0after"}' })).toEqual({ ...result, duplicate: true });
  });

  it('spawns one incident job for an ALARM, keyed by account, with the incident TASK.md', async () => {
    const classified: ClassifiedMessage = { classification: 'alarm', source: 'eventbridge', alarm };
    const result = await repository.recordMessage({
      sqsMessageId: 'msg-alarm',
      receivedAt: new Date(),
      body: '{"detail-type":"CloudWatch Alarm State Change"}',
      classified,
      repository: REPOSITORY,
    });
    expect(result).toEqual({
      deliveryId: expect.any(String),
      duplicate: false,
      classification: 'alarm',
      rejectionReason: null,
      decisions: [{ jobId: expect.any(String), kind: 'incident', key: alarm.account, repository: REPOSITORY, incidentId: expect.any(String) }],
      alarm: { alarmId: expect.any(String), incidentId: result.decisions[0]?.incidentId, outcome: 'spawned' },
    });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: result.decisions[0]?.jobId }, include: { incidents: { include: { alarms: true } } } });
    expect(job).toMatchObject({ kind: 'incident', key: alarm.account, status: 'pending', ticketId: null, deliveryId: result.deliveryId });
    expect(job.taskMarkdown).toContain('api-high-cpu');
    expect(job.incidents).toEqual([expect.objectContaining({ account: alarm.account, alarmCount: 1, firstEventAt: alarm.eventTime, lastEventAt: alarm.eventTime })]);
    expect(job.incidents[0]?.alarms).toEqual([
      expect.objectContaining({ deliveryId: result.deliveryId, state: 'ALARM', alarmName: 'api-high-cpu', eventTime: alarm.eventTime, metrics: alarm.metrics }),
    ]);
  });

  it('answers a repeated alarm message id with the original incident decision', async () => {
    const input: RecordMessageInput = {
      sqsMessageId: 'msg-alarm',
      receivedAt: new Date(),
      body: '{}',
      classified: { classification: 'alarm', source: 'sns', alarm },
      repository: REPOSITORY,
    };
    const first = await repository.recordMessage(input);
    const again = await repository.recordMessage(input);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await prisma.alarm.count()).toBe(1);
    expect(await prisma.incident.count()).toBe(1);
    expect(await prisma.job.count()).toBe(1);
  });

  it('gives every row it creates a time-ordered id (UUIDv7), in creation order', async () => {
    const before = Date.now();
    const ticket = await repository.recordMessage(ticketMessage('msg-v7-ticket', ticketFacts('V7-1')));
    const spawned = await repository.recordMessage({
      sqsMessageId: 'msg-v7-alarm',
      receivedAt: new Date(),
      body: '{}',
      classified: { classification: 'alarm', source: 'eventbridge', alarm },
      repository: REPOSITORY,
    });
    const recovery = await repository.recordMessage({
      sqsMessageId: 'msg-v7-ok',
      receivedAt: new Date(),
      body: '{}',
      classified: { classification: 'alarm', source: 'eventbridge', alarm: { ...alarm, state: 'OK' } },
      repository: REPOSITORY,
    });
    const rejected = await repository.recordMessage({
      sqsMessageId: 'msg-v7-bad',
      receivedAt: new Date(),
      body: '{',
      classified: { classification: 'rejected', reason: 'body is not valid JSON' },
      repository: REPOSITORY,
    });
    const storedTicket = await prisma.ticket.findUniqueOrThrow({ where: { key: 'V7-1' } });
    const ids = [
      storedTicket.id,
      ticket.deliveryId,
      ticket.decisions[0]?.jobId,
      spawned.deliveryId,
      spawned.decisions[0]?.jobId,
      spawned.decisions[0]?.incidentId,
      spawned.alarm?.alarmId,
      recovery.deliveryId,
      recovery.alarm?.alarmId,
      rejected.deliveryId,
    ];
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const id of ids) {
      expect(id).toMatch(v7);
      expect(parseInt((id ?? '').replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(before);
    }
    // The ticket's row ids are drawn ticket, delivery, job; an alarm's delivery before its job, incident and alarm.
    expect([...ids].sort()).toEqual(ids);
  });

  it('refuses a ticket without TASK.md rather than storing a job nobody can run', async () => {
    const input = ticketMessage('msg-1', ticketFacts('ENG-1'));
    await expect(repository.recordMessage({ ...input, taskMarkdown: undefined })).rejects.toThrow(/taskMarkdown/);
    expect(await prisma.delivery.count()).toBe(0);
  });

  describe('under concurrency (separate clients = separate connections, like scheduler replicas)', () => {
    const clients: IngestRepository[] = [];
    beforeAll(() => {
      for (let i = 0; i < 6; i += 1) {
        clients.push(new IngestRepository({ databaseUrl: serverUrl() }));
      }
    });
    afterAll(() => Promise.all(clients.map((client) => client.close())));

    it('creates exactly one job when one ticket arrives through many messages at once', async () => {
      for (let round = 0; round < 3; round += 1) {
        const key = `RACE-${round}`;
        const results = await Promise.all(
          clients.map((client, i) =>
            client.recordMessage(ticketMessage(`race-${round}-${i}`, ticketFacts(key))),
          ),
        );
        expect(results.flatMap((result) => result.decisions)).toHaveLength(1);
        expect(results.every((result) => !result.duplicate)).toBe(true);
        expect(await prisma.job.count({ where: { key } })).toBe(1);
        expect(await prisma.delivery.count({ where: { ticket: { key } } })).toBe(clients.length);
      }
    });

    it('records one delivery when the same message id is submitted at once by many clients', async () => {
      const results = await Promise.all(
        clients.map((client) => client.recordMessage(ticketMessage('same-id', ticketFacts('ENG-7')))),
      );
      const originals = results.filter((result) => !result.duplicate);
      expect(originals).toHaveLength(1);
      const jobIds = new Set(results.map((result) => result.decisions[0]?.jobId));
      expect(jobIds.size).toBe(1);
      expect(jobIds.has(undefined)).toBe(false);
      expect(await prisma.delivery.count()).toBe(1);
      expect(await prisma.job.count()).toBe(1);
    });
  });
});
