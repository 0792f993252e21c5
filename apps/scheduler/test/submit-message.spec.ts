import { schedulerV1 } from '@agent-conductor/contracts';
import { createPrismaClient, PrismaClient } from '@agent-conductor/db';
import { DEFAULT_FOLLOW_UP_POLICY, DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { freePort, resetDatabase } from '@agent-conductor/testing';
import { ServiceError, status } from '@grpc/grpc-js';
import { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchedulerConfigValues } from '../src/config/env.validators';
import { bootstrapScheduler } from '../src/bootstrap';
import { refused } from './port-probe';
import { SchedulerTestClient } from './scheduler-client';

const { MessageClassification, SpawnKind } = schedulerV1;
const REPOSITORY = '/srv/git/sample-app.git';

function fixture(name: string): string {
  return readFileSync(join(__dirname, 'fixtures', name), 'utf8');
}

function webhookFor(key: string): string {
  const webhook = JSON.parse(fixture('jira-webhook.issue_created.json')) as { issue: { key: string } };
  webhook.issue.key = key;
  return JSON.stringify(webhook);
}

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    throw new Error('DATABASE_URL is not set: run through `nx test scheduler` (libs/testing global setup)');
  }
  return url;
}

function grpcCode(error: unknown): number | undefined {
  return (error as Partial<ServiceError>).code;
}

describe('SchedulerService.SubmitMessage over gRPC', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;
  let counter = 0;
  const receivedAt = '2026-05-12T18:22:14.000Z';
  const nextId = (): string => `msg-${(counter += 1)}`;

  beforeAll(async () => {
    const port = await freePort();
    const config: SchedulerConfigValues = {
      production: false,
      databaseUrl: databaseUrl(),
      dbConnectTimeoutMs: 0,
      grpcListenAddr: `127.0.0.1:${port}`,
      defaultRepositoryUrl: REPOSITORY,
      defaultRepositoryBranch: 'main',
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
    };
    app = await bootstrapScheduler(config, { logger: false });
    client = new SchedulerTestClient(config.grpcListenAddr);
    prisma = createPrismaClient(databaseUrl());
  });
  afterAll(async () => {
    client?.close();
    await prisma?.$disconnect();
    await app?.close();
  });
  beforeEach(() => resetDatabase(prisma));

  it('turns a Jira issue into one pending job with the rendered TASK.md', async () => {
    const response = await client.submitMessage({ messageId: nextId(), body: fixture('jira-issue.json'), receivedAt });

    expect(response).toEqual({
      deliveryId: expect.any(String),
      classification: MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
      rejectionReason: '',
      duplicate: false,
      decisions: [{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_TICKET, key: 'ENG-123', repository: REPOSITORY }],
    });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId } });
    expect(job).toMatchObject({ status: 'pending', key: 'ENG-123', deliveryId: response.deliveryId, repository: REPOSITORY });
    expect(job.taskMarkdown).toContain('Login fails after session timeout');
  });

  it('answers a repeated message id with the original outcome and the same job', async () => {
    const messageId = nextId();
    const first = await client.submitMessage({ messageId, body: fixture('jira-issue.json'), receivedAt });
    const again = await client.submitMessage({ messageId, body: fixture('jira-issue.json'), receivedAt });

    expect(again).toEqual({ ...first, duplicate: true });
    expect(again.decisions[0]?.jobId).toBe(first.decisions[0]?.jobId);
    expect(await prisma.delivery.count()).toBe(1);
  });

  it('spawns nothing more for the same ticket under a new message id, nor for its webhook', async () => {
    const first = await client.submitMessage({ messageId: nextId(), body: fixture('jira-issue.json'), receivedAt });
    const redelivered = await client.submitMessage({ messageId: nextId(), body: fixture('jira-issue.json'), receivedAt });
    const webhook = await client.submitMessage({ messageId: nextId(), body: webhookFor('ENG-123'), receivedAt });

    expect(first.decisions).toHaveLength(1);
    for (const response of [redelivered, webhook]) {
      expect(response).toMatchObject({
        classification: MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
        duplicate: false,
        decisions: [],
      });
    }
    expect(await prisma.job.count()).toBe(1);
    expect(await prisma.delivery.count()).toBe(3);
  });

  it('spawns a job for a webhook of a new ticket', async () => {
    const response = await client.submitMessage({ messageId: nextId(), body: fixture('jira-webhook.issue_created.json'), receivedAt });
    expect(response.decisions).toEqual([
      { jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_TICKET, key: 'ENG-125', repository: REPOSITORY },
    ]);
  });

  it('stores a garbage body as rejected, with the reason, and spawns nothing', async () => {
    const messageId = nextId();
    const response = await client.submitMessage({ messageId, body: 'this is not json {', receivedAt });

    expect(response).toMatchObject({
      classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
      duplicate: false,
      decisions: [],
    });
    expect(response.rejectionReason).not.toBe('');
    const delivery = await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: messageId } });
    expect(delivery).toMatchObject({
      id: response.deliveryId,
      body: 'this is not json {',
      classification: 'rejected',
      rejectionReason: response.rejectionReason,
    });
    expect(await prisma.job.count()).toBe(0);
  });

  it.each([
    ['cloudwatch-alarm.eventbridge.json', 'api-high-cpu'],
    ['cloudwatch-alarm.sns.json', 'orders-db-free-storage'],
  ])('spawns one incident for the ALARM %s, and none for a second alarm of the account minutes later', async (name, alarmName) => {
    const messageId = nextId();
    const response = await client.submitMessage({ messageId, body: fixture(name), receivedAt });

    expect(response).toEqual({
      deliveryId: expect.any(String),
      classification: MessageClassification.MESSAGE_CLASSIFICATION_ALARM,
      rejectionReason: '',
      duplicate: false,
      decisions: [{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_INCIDENT, key: '123456789012', repository: REPOSITORY }],
    });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId }, include: { incidents: true } });
    expect(job).toMatchObject({ kind: 'incident', key: '123456789012', status: 'pending', deliveryId: response.deliveryId });
    expect(job.taskMarkdown).toContain(alarmName);
    expect(job.incidents).toEqual([expect.objectContaining({ account: '123456789012', alarmCount: 1 })]);

    // The other fixture is the same account, 6 minutes apart: it joins.
    const other = name.includes('sns') ? 'cloudwatch-alarm.eventbridge.json' : 'cloudwatch-alarm.sns.json';
    const joined = await client.submitMessage({ messageId: nextId(), body: fixture(other), receivedAt });
    expect(joined).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_ALARM, duplicate: false, decisions: [] });
    expect(await prisma.job.count()).toBe(1);
    expect(await prisma.incident.findFirstOrThrow()).toMatchObject({ id: job.incidents[0]?.id, alarmCount: 2 });
  });

  it.each([
    ['an empty message id', { messageId: '', receivedAt }],
    ['a blank message id', { messageId: '   ', receivedAt }],
    ['a message id with a NUL', { messageId: 'msg-\u0000', receivedAt }],
    ['an unparseable received_at', { messageId: 'msg-x', receivedAt: 'yesterday' }],
    ['an empty received_at', { messageId: 'msg-y', receivedAt: '' }],
    ['an impossible date', { messageId: 'msg-z', receivedAt: '2026-13-45T99:00:00Z' }],
    ['a day the month does not have', { messageId: 'msg-feb', receivedAt: '2026-02-30T10:00:00Z' }],
    ['a time without a zone', { messageId: 'msg-local', receivedAt: '2026-05-12T10:00:00' }],
  ])('refuses %s with INVALID_ARGUMENT and stores nothing', async (_, request) => {
    const error: unknown = await client.submitMessage({ ...request, body: fixture('jira-issue.json') }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(grpcCode(error)).toBe(status.INVALID_ARGUMENT);
    expect(await prisma.delivery.count()).toBe(0);
  });

  describe('poison messages (bad input, for the record)', () => {
    const webhook = (): Record<string, unknown> => JSON.parse(fixture('jira-webhook.issue_created.json')) as Record<string, unknown>;
    const eventBridgeAlarmAt = (time: string): string => JSON.stringify({ ...JSON.parse(fixture('cloudwatch-alarm.eventbridge.json')), time });
    const snsWithType = (type: string): string => JSON.stringify({ ...JSON.parse(fixture('cloudwatch-alarm.sns.json')), Type: type });

    it.each([
      ['a NUL in webhookEvent', (): string => JSON.stringify({ ...webhook(), webhookEvent: 'jira:issue_created\u0000' }), /webhookEvent|event/],
      ['a NUL in a top-level key', (): string => JSON.stringify({ 'not\u0000known': 1, other: 2 }), /unrecognised message shape/],
      ['a NUL in the SNS Type', (): string => snsWithType('Noti\u0000fication'), /SNS message of Type/],
      ['an alarm dated 9999-12-31', (): string => eventBridgeAlarmAt('9999-12-31T00:00:00Z'), /event time 9999-12-31T00:00:00\.000Z is outside/],
    ])('stores %s as rejected, with a reason free of NUL', async (_, body, reason) => {
      const messageId = nextId();
      const response = await client.submitMessage({ messageId, body: body(), receivedAt });

      expect(response).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, duplicate: false, decisions: [] });
      expect(response.rejectionReason).toMatch(reason);
      expect(response.rejectionReason).not.toContain('\u0000');
      const delivery = await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: messageId } });
      expect(delivery).toMatchObject({ id: response.deliveryId, body: body(), classification: 'rejected', rejectionReason: response.rejectionReason });
      expect(await prisma.job.count()).toBe(0);
      expect(await prisma.alarm.count()).toBe(0);
    });

    it('stores a body holding a raw NUL escaped, and says so in the reason', async () => {
      const messageId = nextId();
      const body = `{"webhookEvent":"jira:issue_created","issue":\u0000}`;
      const response = await client.submitMessage({ messageId, body, receivedAt });

      expect(response.classification).toBe(MessageClassification.MESSAGE_CLASSIFICATION_REJECTED);
      expect(response.rejectionReason).not.toContain('\u0000');
      const delivery = await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: messageId } });
      expect(delivery.body).toBe('{"webhookEvent":"jira:issue_created","issue":\\u0000}');
      expect(delivery.rejectionReason).toMatch(/NUL.*escaped as \\u0000/);
      // A redelivery finds the first one by its message id and changes nothing.
      expect(await client.submitMessage({ messageId, body, receivedAt })).toEqual({ ...response, duplicate: true });
    });

    it('stores a GitHub webhook the ingress queued without the pull request\'s URL as rejected, with the reason', async () => {
      const messageId = nextId();
      const body = JSON.stringify({
        githubWebhook: { deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', event: 'pull_request_review' },
        payload: { action: 'submitted', review: { body: '@agent address these' }, pull_request: { number: 7 } },
      });
      const response = await client.submitMessage({ messageId, body, receivedAt });

      expect(response).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, duplicate: false, decisions: [] });
      expect(response.rejectionReason).toBe('github pull_request_review: pull_request.html_url is missing');
      const delivery = await prisma.delivery.findUniqueOrThrow({ where: { sqsMessageId: messageId } });
      expect(delivery).toMatchObject({ body, classification: 'rejected', rejectionReason: response.rejectionReason });
      expect(await prisma.job.count()).toBe(0);
    });

    it('still takes an alarm dated inside the sane range', async () => {
      const response = await client.submitMessage({ messageId: nextId(), body: eventBridgeAlarmAt('2026-05-12T18:00:00Z'), receivedAt });
      expect(response.classification).toBe(MessageClassification.MESSAGE_CLASSIFICATION_ALARM);
    });
  });

  it('creates exactly one job when one ticket is submitted in parallel under different message ids', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => client.submitMessage({ messageId: nextId(), body: fixture('jira-issue.json'), receivedAt })),
    );
    expect(responses.flatMap((response) => response.decisions)).toHaveLength(1);
    expect(responses.every((response) => !response.duplicate)).toBe(true);
    expect(await prisma.job.count()).toBe(1);
    expect(await prisma.delivery.count()).toBe(8);
  });
});

describe('SchedulerService.SubmitMessages over gRPC', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;
  const receivedAt = '2026-05-12T18:22:14.000Z';

  beforeAll(async () => {
    const port = await freePort();
    app = await bootstrapScheduler(
      {
        production: false,
        databaseUrl: databaseUrl(),
        dbConnectTimeoutMs: 0,
        grpcListenAddr: `127.0.0.1:${port}`,
        defaultRepositoryUrl: REPOSITORY,
        defaultRepositoryBranch: 'main',
        incidentPolicy: DEFAULT_INCIDENT_POLICY,
        followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
      },
      { logger: false },
    );
    client = new SchedulerTestClient(`127.0.0.1:${port}`);
    prisma = createPrismaClient(databaseUrl());
  });
  afterAll(async () => {
    client?.close();
    await prisma?.$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_poison ON deliveries');
    await prisma?.$executeRawUnsafe('DROP FUNCTION IF EXISTS refuse_poison()');
    await prisma?.$disconnect();
    await app?.close();
  });
  beforeEach(() => resetDatabase(prisma));

  it('answers each message of a batch on its own: a refused and a failing message do not fail their neighbours', async () => {
    // A real commit failure for one message id, as a bug or a constraint would raise it.
    await prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.sqs_message_id = 'batch-poison' THEN RAISE EXCEPTION 'refusing %', NEW.sqs_message_id; END IF;
        RETURN NEW;
      END $$`);
    await prisma.$executeRawUnsafe('CREATE TRIGGER refuse_poison BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION refuse_poison()');
    try {
      const response = await client.submitMessages({
        messages: [
          { messageId: 'batch-ticket', body: fixture('jira-issue.json'), receivedAt },
          { messageId: 'batch-poison', body: fixture('cloudwatch-alarm.eventbridge.json'), receivedAt },
          { messageId: 'batch-no-date', body: fixture('jira-issue.json'), receivedAt: 'yesterday' },
          { messageId: 'batch-alarm', body: fixture('cloudwatch-alarm.eventbridge.json'), receivedAt },
          { messageId: 'batch-garbage', body: 'not json {', receivedAt },
        ],
      });

      expect(response.outcomes.map((outcome) => [outcome.messageId, outcome.response?.classification ?? outcome.error?.code])).toEqual([
        ['batch-ticket', MessageClassification.MESSAGE_CLASSIFICATION_TICKET],
        ['batch-poison', status.INTERNAL],
        ['batch-no-date', status.INVALID_ARGUMENT],
        ['batch-alarm', MessageClassification.MESSAGE_CLASSIFICATION_ALARM],
        ['batch-garbage', MessageClassification.MESSAGE_CLASSIFICATION_REJECTED],
      ]);
      expect(response.outcomes[1]?.error?.message).toMatch(/refusing batch-poison/);
      expect(response.outcomes[2]?.error?.message).toMatch(/received_at must be an ISO-8601 timestamp/);
      // The alarm after the failed one of the same account opened the incident itself.
      expect(response.outcomes[3]?.response?.decisions).toEqual([expect.objectContaining({ kind: SpawnKind.SPAWN_KIND_INCIDENT })]);
      const stored = await prisma.delivery.findMany({ select: { sqsMessageId: true }, orderBy: { sqsMessageId: 'asc' } });
      expect(stored.map((row) => row.sqsMessageId)).toEqual(['batch-alarm', 'batch-garbage', 'batch-ticket']);
    } finally {
      await prisma.$executeRawUnsafe('DROP TRIGGER IF EXISTS refuse_poison ON deliveries');
    }
  });

  it('returns the original outcome for a message id submitted before, as SubmitMessage does', async () => {
    const first = await client.submitMessage({ messageId: 'batch-again', body: fixture('jira-issue.json'), receivedAt });
    const response = await client.submitMessages({ messages: [{ messageId: 'batch-again', body: fixture('jira-issue.json'), receivedAt }] });
    expect(response.outcomes[0]?.response).toEqual({ ...first, duplicate: true });
  });
});

describe('scheduler boot', () => {
  it('fails loudly when the database stays unreachable past DB_CONNECT_TIMEOUT_MS, its gRPC port never open', async () => {
    const deadPort = await freePort();
    const grpcPort = await freePort();
    const startedAt = Date.now();
    const boot = bootstrapScheduler(
      {
        production: false,
        databaseUrl: `postgresql://postgres:postgres@127.0.0.1:${deadPort}/nowhere`,
        dbConnectTimeoutMs: 1500,
        grpcListenAddr: `127.0.0.1:${grpcPort}`,
        defaultRepositoryUrl: REPOSITORY,
        defaultRepositoryBranch: 'main',
        incidentPolicy: DEFAULT_INCIDENT_POLICY,
        followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
      },
      { logger: false },
    );
    // A conductor takes an open port for a scheduler that can serve: it must stay closed until Postgres answers.
    let settled = false;
    void boot.catch(() => undefined).finally(() => (settled = true));
    const probes: boolean[] = [];
    while (!settled) {
      probes.push(await refused(grpcPort));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.every(Boolean)).toBe(true);
    await expect(boot).rejects.toThrow(/Cannot reach the database at 127\.0\.0\.1:\d+\/nowhere/);
    // It kept trying for the configured wait instead of failing on the first refusal.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1500);
  });
});
