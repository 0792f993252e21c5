import { DirectoryResultStore } from '@agent-conductor/aws';
import { packDirectory } from '@agent-conductor/contracts';
import { DbModule, IngestRepository, type Job, type PrismaClient } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { githubReviewEvent, resetDatabase } from '@agent-conductor/testing';
import { PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConductorConfigModule } from '../src/config/config.module';
import type { ConductorConfig } from '../src/config/env.validators';
import { ConsoleApiModule } from '../src/console-api/console-api.module';
import { ConsoleAuthModule } from '../src/console-auth/console-auth.module';
import { baseUrl, schemaProblems, TEST_CONSOLE_TOKEN, type DocumentedSchema } from './support/console';
import { consoleApiDocument } from '../src/console-api/console-api.docs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { createClaimedJob, createPendingJob, testConfig, testPrisma } from './support/fixtures';

/** What an agent might leak into its report: a GitHub token shape the shared redactor knows. */
const LEAKED = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('console read API over HTTP (seeded rows, a real result archive, local SQS)', () => {
  let app: INestApplication;
  let base: string;
  let prisma: PrismaClient;
  let config: ConductorConfig;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;
  let intakeUrl: string;
  let dlqUrl: string;
  let document: OpenAPIObject;
  const checked = new Set<string>();

  /** The 200 schema the OpenAPI document gives for a concrete path (`:id` segments matched to `{id}`). */
  function documentedSchema(path: string): DocumentedSchema | undefined {
    const pathname = path.split('?')[0] ?? path;
    for (const [pattern, operations] of Object.entries(document.paths)) {
      const matcher = new RegExp(`^${pattern.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      if (!matcher.test(pathname)) continue;
      const content = operations.get?.responses['200'];
      if (content && 'content' in content) return content.content?.['application/json']?.schema as DocumentedSchema | undefined;
    }
    return undefined;
  }

  /** Every 200 JSON answer is checked against the document, so /api/docs says what the API really returns. */
  async function get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T; type: string }> {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
    const type = response.headers.get('content-type') ?? '';
    const body = (type.includes('json') ? await response.json() : await response.text()) as T;
    if (response.status === 200 && type.includes('json')) {
      const schema = documentedSchema(path);
      expect({ path, documented: schema !== undefined }).toEqual({ path, documented: true });
      expect({ path, problems: schema ? schemaProblems(body, schema) : [] }).toEqual({ path, problems: [] });
      checked.add(path.split('?')[0]?.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id') ?? path);
    }
    return { status: response.status, body, type };
  }

  beforeAll(async () => {
    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    dlqUrl = sqsServer.createQueue('console-api-dlq');
    intakeUrl = sqsServer.createQueue('console-api-intake', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqsServer.queueArn('console-api-dlq'), maxReceiveCount: 3 }),
    });
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    config = await testConfig({
      sqsQueueUrl: intakeUrl,
      sqsEndpoint: endpoint,
      consoleAuth: { mode: 'token', token: TEST_CONSOLE_TOKEN, sessionTtlMs: 60_000 },
      maxActiveJobs: 7,
      repoMaxActiveJobs: 2,
      incidentPolicy: { windowMs: 15 * 60_000, capMs: 2 * 3_600_000 },
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ConductorConfigModule.forRoot(config), DbModule.forRoot({ databaseUrl: config.databaseUrl }), ConsoleAuthModule, ConsoleApiModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    base = baseUrl(app);
    document = consoleApiDocument(app);
    prisma = testPrisma();
  });
  afterAll(async () => {
    await app?.close();
    await prisma?.$disconnect();
    sqs?.destroy();
    await sqsServer?.stop();
  });
  beforeEach(async () => {
    await resetDatabase(prisma);
    for (const QueueUrl of [intakeUrl, dlqUrl]) await sqs.send(new PurgeQueueCommand({ QueueUrl }));
  });

  /** A job that ran one attempt to the end, with the worker rows and events the conductor writes. */
  async function endedJob(key: string, options: { pullRequest?: string; error?: string; archive?: Record<string, string> } = {}): Promise<{ job: Job; workerId: string }> {
    const job = await createClaimedJob(prisma, { key });
    const worker = await prisma.worker.create({
      data: { jobId: job.id, attempt: 1, launcher: 'local', launcherHandle: '4242', tokenHash: 'hash', state: 'ended', launchedAt: new Date(), handshakeAt: new Date(), endedAt: new Date() },
    });
    await prisma.workerEvent.create({ data: { workerId: worker.id, type: 'handshake' } });
    await prisma.workerEvent.create({ data: { workerId: worker.id, type: 'heartbeat' } });
    if (options.archive) {
      const workDir = await mkdtemp(join(tmpdir(), 'console-api-work-'));
      for (const [path, text] of Object.entries(options.archive)) {
        await mkdir(join(workDir, path, '..'), { recursive: true });
        await writeFile(join(workDir, path), text);
      }
      const archivePath = join(workDir, '..', `${worker.id}.tar.gz`);
      await packDirectory(workDir, archivePath);
      const store = new DirectoryResultStore({ directory: join(config.resultsDir, 'archives') });
      const { location } = await store.store({ jobId: job.id, workerId: worker.id, attempt: 1 }, archivePath);
      await prisma.workerEvent.create({ data: { workerId: worker.id, type: 'results-uploaded', detail: { archive: location } } });
    }
    const startedAt = new Date(Date.now() - 90_000);
    const updated = await prisma.job.update({
      where: { id: job.id },
      data: {
        status: options.error ? 'failed' : 'succeeded',
        startedAt,
        finishedAt: new Date(startedAt.getTime() + 80_000),
        error: options.error ?? null,
        result: { branch: `fix/${key}`, title: key, ...(options.pullRequest ? { pullRequest: options.pullRequest } : { report: 'no change needed' }) },
        // Shutdown copies the result's pull request to the row: review comments find their thread by it.
        pullRequest: options.pullRequest ?? null,
        usage: { inputTokens: 100, cachedInputTokens: 10, outputTokens: 20, turns: 2, durationMs: 70_000, model: null },
      },
    });
    return { job: updated, workerId: worker.id };
  }

  it('lists jobs with filters and paging, and refuses bad parameters with the reason', async () => {
    const { job: done } = await endedJob('API-1', { pullRequest: 'https://github.com/acme/orders-api/pull/9' });
    const running = await createClaimedJob(prisma, { key: 'API-2', repository: 'https://github.com/acme/billing.git' });

    const all = await get<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>('/api/v1/jobs');
    expect(all.status).toBe(200);
    expect(all.body.items.map((item) => item['key'])).toEqual(['API-2', 'API-1']);
    // Field by field; that nothing else is there is the document's check in get().
    expect(all.body.items[1]).toMatchObject({
      id: done.id,
      kind: 'ticket',
      key: 'API-1',
      status: 'succeeded',
      waitingReason: null,
      repository: done.repository,
      branch: null,
      attempts: 1,
      createdAt: done.createdAt.toISOString(),
      startedAt: done.startedAt?.toISOString(),
      finishedAt: done.finishedAt?.toISOString(),
      durationMs: 80_000,
      usage: { inputTokens: 100, cachedInputTokens: 10, outputTokens: 20, turns: 2, model: null, contextReused: false },
      pullRequest: 'https://github.com/acme/orders-api/pull/9',
      rerunOf: null,
      approval: 'none',
      cancelRequestedAt: null,
    });
    expect((await get<{ items: Array<{ id: string }> }>('/api/v1/jobs?status=launching')).body.items.map((item) => item.id)).toEqual([running.id]);
    expect((await get<{ items: Array<{ id: string }> }>(`/api/v1/jobs?repository=${encodeURIComponent(running.repository)}`)).body.items.map((item) => item.id)).toEqual([running.id]);
    expect((await get<{ items: Array<{ id: string }> }>('/api/v1/jobs?key=API-1&kind=ticket')).body.items.map((item) => item.id)).toEqual([done.id]);

    const first = await get<{ items: Array<{ id: string }>; nextCursor: string }>('/api/v1/jobs?limit=1');
    expect(first.body.items.map((item) => item.id)).toEqual([running.id]);
    const second = await get<{ items: Array<{ id: string }>; nextCursor: string | null }>(`/api/v1/jobs?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: done.id })], nextCursor: null });

    for (const [query, problem] of [
      ['status=done', /status/],
      ['stauts=failed', /Unrecognized key|stauts/],
      ['limit=0', /limit/],
      ['limit=201', /limit/],
      ['limit=ten', /limit/],
      ['cursor=bogus', /cursor/],
    ] as const) {
      const refused = await get<{ message: string | string[] }>(`/api/v1/jobs?${query}`);
      expect({ query, status: refused.status }).toEqual({ query, status: 400 });
      expect(String(refused.body.message)).toMatch(problem);
    }
  });

  it('details a job with its attempts, redacted events and error, and the ending report and transcript from the result store', async () => {
    const { job, workerId } = await endedJob('API-3', {
      error: `push failed: https://x-access-token:${LEAKED}@github.com/acme/orders-api.git`,
      archive: {
        'TASK.md': '# task',
        'agent-meta/ending-report.md': `# Done\n\nUsed ${LEAKED} to push.\n`,
        'agent-meta/transcript.md': `# Codex transcript\n\ntoken=${LEAKED}\n`,
        'agent-meta/WAS_JOB_SUCCESSFUL': 'false',
        'repo/README.md': 'the repository',
      },
    });
    await prisma.workerEvent.create({ data: { workerId, type: 'agent-error', detail: { message: `auth with ${LEAKED} failed` } } });

    const detail = await get<Record<string, unknown>>(`/api/v1/jobs/${job.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: job.id,
      status: 'failed',
      taskMarkdown: job.taskMarkdown,
      result: { branch: 'fix/API-3', report: 'no change needed' },
      workers: [{ id: workerId, attempt: 1, state: 'ended', launcher: 'local', heartbeats: 1 }],
      transcriptAvailable: true,
      report: expect.stringContaining('# Done'),
    });
    expect((detail.body['events'] as Array<{ type: string }>).map((event) => event.type)).toEqual(['handshake', 'results-uploaded', 'agent-error']);
    expect(detail.body).not.toHaveProperty('resultsFrom');
    expect(JSON.stringify(detail.body)).not.toContain(LEAKED);
    expect(String(detail.body['error'])).toMatch(/^push failed: https:\/\/x-access-token:.+@github\.com/);

    const transcript = await get<string>(`/api/v1/jobs/${job.id}/transcript`);
    expect(transcript.status).toBe(200);
    expect(transcript.type).toMatch(/^text\/plain/);
    expect(transcript.body).toContain('# Codex transcript');
    expect(transcript.body).not.toContain(LEAKED);
  });

  it('answers a job without uploaded results with no report, and 404 for its transcript and for unknown jobs', async () => {
    const { job } = await endedJob('API-4');
    expect((await get(`/api/v1/jobs/${job.id}`)).body).toMatchObject({ report: null, transcriptAvailable: false });
    expect((await get(`/api/v1/jobs/${job.id}/transcript`)).status).toBe(404);
    const { job: withoutTranscript } = await endedJob('API-5', { archive: { 'agent-meta/ending-report.md': 'just a report' } });
    expect((await get(`/api/v1/jobs/${withoutTranscript.id}`)).body).toMatchObject({ report: 'just a report', transcriptAvailable: false });
    expect((await get(`/api/v1/jobs/${withoutTranscript.id}/transcript`)).status).toBe(404);
    expect((await get('/api/v1/jobs/0195f3a4-7b1c-7d2e-9f00-123456789abc')).status).toBe(404);
    expect((await get('/api/v1/jobs/0195f3a4-7b1c-7d2e-9f00-123456789abc/transcript')).status).toBe(404);
    expect((await get('/api/v1/jobs/not-an-id')).status).toBe(404);
  });

  it('lists incidents with the window and cap in force, and one incident with its alarms', async () => {
    const ingest = new IngestRepository({ databaseUrl: config.databaseUrl });
    try {
      const alarm = (name: string, at: string) => ({
        account: '123456789012',
        region: 'eu-west-1',
        alarmName: name,
        state: 'ALARM' as const,
        reason: null,
        eventTime: new Date(at),
        alarmArn: null,
        metrics: [],
      });
      const policy = config.incidentPolicy;
      const first = await ingest.recordMessage({ sqsMessageId: 'i1', receivedAt: new Date(), body: '{}', classified: { classification: 'alarm', source: 'sns', alarm: alarm('api-5xx', '2026-11-01T10:00:00.000Z') }, repository: 'r.git', incidentPolicy: policy });
      await ingest.recordMessage({ sqsMessageId: 'i2', receivedAt: new Date(), body: '{}', classified: { classification: 'alarm', source: 'sns', alarm: alarm('db-cpu', '2026-11-01T10:10:00.000Z') }, repository: 'r.git', incidentPolicy: policy });
      const incidentId = first.decisions[0]?.incidentId ?? '';

      const list = await get<{ items: Array<Record<string, unknown>> }>('/api/v1/incidents');
      expect(list.body.items).toEqual([expect.objectContaining({ id: incidentId, alarmCount: 2, windowMinutes: 15, capMinutes: 120, firstAlarmAt: '2026-11-01T10:00:00.000Z', lastAlarmAt: '2026-11-01T10:10:00.000Z' })]);
      const detail = await get<{ alarms: Array<{ name: string; at: string }>; windowMinutes: number }>(`/api/v1/incidents/${incidentId}`);
      expect(detail.body.windowMinutes).toBe(15);
      expect(detail.body.alarms.map((entry) => [entry.name, entry.at])).toEqual([
        ['api-5xx', '2026-11-01T10:00:00.000Z'],
        ['db-cpu', '2026-11-01T10:10:00.000Z'],
      ]);
      expect((await get('/api/v1/incidents/0195f3a4-7b1c-7d2e-9f00-123456789abc')).status).toBe(404);
    } finally {
      await ingest.close();
    }
  });

  it('details a follow-up with the redacted comments it answers and its thread, and a job over several accounts and repositories', async () => {
    const ingest = new IngestRepository({ databaseUrl: config.databaseUrl });
    try {
      const pullRequest = 'https://github.com/acme/orders-api/pull/12';
      const { job: first } = await endedJob('API-F', { pullRequest });
      const comment = githubReviewEvent('pull_request_review_comment', { pullRequest, id: 77, body: `@agent <script>x()</script> the token ${LEAKED} leaks here`, path: 'src/app.ts', line: 3 });
      const recorded = await ingest.recordMessage({ sqsMessageId: 'c77', receivedAt: new Date(), body: comment, classified: classifyMessage(comment), repository: first.repository });
      const followUpId = recorded.followUp?.jobId ?? '';

      const followUp = await get<Record<string, unknown>>(`/api/v1/jobs/${followUpId}`);
      expect(followUp.body).toMatchObject({
        followUpOf: first.id,
        followUpRequests: [{ source: 'github', author: 'octo-reviewer', path: 'src/app.ts', line: 3, url: `${pullRequest}#discussion_r77`, bodyTruncated: false }],
        thread: { firstJobId: first.id, pullRequest, followUps: [{ id: followUpId, status: 'pending', requests: 1 }] },
      });
      const [request] = followUp.body['followUpRequests'] as Array<{ body: string }>;
      expect(request?.body).toMatch(/^@agent <script>x\(\)<\/script> the token .+ leaks here$/);
      expect(JSON.stringify(followUp.body)).not.toContain(LEAKED);
      expect((await get(`/api/v1/jobs/${first.id}`)).body).toMatchObject({ followUpOf: null, followUpRequests: [], thread: { firstJobId: first.id } });
      expect((await get<{ items: Array<{ id: string; followUpOf: string | null }> }>('/api/v1/jobs')).body.items.find((item) => item.id === followUpId)?.followUpOf).toBe(first.id);

      const group = { name: 'checkout', accounts: ['111111111111', '222222222222'] };
      const alarm = (account: string, at: string) => ({ account, region: 'eu-west-1', alarmName: `${account}-5xx`, state: 'ALARM' as const, reason: null, eventTime: new Date(at), alarmArn: null, metrics: [] });
      const repository = (name: string) => ({ url: `https://github.com/acme/${name}.git`, branch: 'main', name, sparsePaths: [] });
      const own = await ingest.recordMessage({
        sqsMessageId: 'g1', receivedAt: new Date(), body: '{}', classified: { classification: 'alarm', source: 'sns', alarm: alarm('111111111111', '2026-11-01T10:00:00.000Z') },
        repository: repository('orders').url, repositories: [repository('orders')], incidentGroup: group, incidentPolicy: config.incidentPolicy,
      });
      await ingest.recordMessage({
        sqsMessageId: 'g2', receivedAt: new Date(), body: '{}', classified: { classification: 'alarm', source: 'sns', alarm: alarm('222222222222', '2026-11-01T10:05:00.000Z') },
        repository: repository('billing').url, repositories: [repository('billing')], incidentGroup: group, incidentPolicy: config.incidentPolicy,
      });
      const incidentJob = await get<{ incidents: Array<{ account: string }>; repositories: Array<{ name: string; change: unknown }>; thread: unknown }>(`/api/v1/jobs/${own.decisions[0]?.jobId ?? ''}`);
      expect(incidentJob.body.incidents.map((incident) => incident.account)).toEqual(['111111111111', '222222222222']);
      expect(incidentJob.body.repositories.map((entry) => [entry.name, entry.change])).toEqual([['orders', null], ['billing', null]]);
      expect(incidentJob.body.thread).toBeNull();
    } finally {
      await ingest.close();
    }
  });

  it("lists the thread's comments not acted on with the reason and a redacted body, on the first job and its follow-up", async () => {
    const ingest = new IngestRepository({ databaseUrl: config.databaseUrl });
    try {
      const pullRequest = 'https://github.com/acme/orders-api/pull/13';
      const { job: first } = await endedJob('API-R', { pullRequest });
      const refused = githubReviewEvent('pull_request_review_comment', { pullRequest, id: 88, body: `@agent <b>ship</b> it, here is my token ${LEAKED}`, path: 'src/app.ts', line: 9, login: 'drive-by', association: 'NONE' });
      const rejected = await ingest.recordMessage({ sqsMessageId: 'r88', receivedAt: new Date(), body: refused, classified: classifyMessage(refused), repository: first.repository });
      const accepted = githubReviewEvent('issue_comment', { pullRequest, id: 89, body: '@agent rename it' });
      const followUp = await ingest.recordMessage({ sqsMessageId: 'r89', receivedAt: new Date(), body: accepted, classified: classifyMessage(accepted), repository: first.repository });
      expect(rejected.classification).toBe('rejected');

      const expected = {
        deliveryId: rejected.deliveryId,
        classification: 'rejected',
        reason: rejected.rejectionReason,
        source: 'github',
        author: 'drive-by',
        bodyTruncated: false,
        path: 'src/app.ts',
        line: 9,
        url: `${pullRequest}#discussion_r88`,
      };
      for (const id of [first.id, followUp.followUp?.jobId ?? '']) {
        const page = await get<{ commentsNotActedOn: Array<Record<string, unknown>>; commentsNotActedOnTruncated: boolean }>(`/api/v1/jobs/${id}`);
        expect(page.body.commentsNotActedOn).toEqual([expect.objectContaining(expected)]);
        expect(page.body.commentsNotActedOn[0]?.['body']).toMatch(/^@agent <b>ship<\/b> it, here is my token .+$/);
        expect(JSON.stringify(page.body)).not.toContain(LEAKED);
        expect(page.body.commentsNotActedOnTruncated).toBe(false);
      }
      const { job: other } = await endedJob('API-S', { pullRequest: 'https://github.com/acme/orders-api/pull/14' });
      expect((await get(`/api/v1/jobs/${other.id}`)).body).toMatchObject({ commentsNotActedOn: [], commentsNotActedOnTruncated: false });
      // The delivery it links to answers with the raw message, as every delivery does.
      expect((await get(`/api/v1/deliveries/${rejected.deliveryId}`)).body).toMatchObject({ classification: 'rejected', body: refused });
    } finally {
      await ingest.close();
    }
  });

  it('lists deliveries, the rejected ones alone, and shows one raw body', async () => {
    const job = await createPendingJob(prisma, { key: 'DLV-1' });
    const rejected = await prisma.delivery.create({ data: { sqsMessageId: 'bad-1', receivedAt: new Date(Date.now() + 1000), body: '{"nope":', classification: 'rejected', rejectionReason: 'body is not JSON' } });
    expect((await get<{ items: Array<{ id: string }> }>('/api/v1/deliveries')).body.items.map((item) => item.id)).toEqual([rejected.id, job.deliveryId]);
    expect((await get<{ items: Array<{ id: string; rejectionReason: string }> }>('/api/v1/deliveries?rejected=true')).body.items).toEqual([
      expect.objectContaining({ id: rejected.id, rejectionReason: 'body is not JSON', sqsMessageId: 'bad-1' }),
    ]);
    expect((await get(`/api/v1/deliveries/${rejected.id}`)).body).toMatchObject({ body: '{"nope":', classification: 'rejected' });
    expect((await get('/api/v1/deliveries?rejected=yes')).status).toBe(400);
  });

  it('reads the intake and dead-letter depths from SQS, finding the DLQ through the RedrivePolicy', async () => {
    for (const body of ['a', 'b']) await sqs.send(new SendMessageCommand({ QueueUrl: intakeUrl, MessageBody: body }));
    await sqs.send(new SendMessageCommand({ QueueUrl: intakeUrl, MessageBody: 'later', DelaySeconds: 60 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'poison' }));
    expect((await get('/api/v1/queues')).body).toEqual({ intake: { visible: 2, inFlight: 0, delayed: 1 }, dlq: { visible: 1, inFlight: 0, delayed: 0 }, errors: [] });
  });

  it('shows active workers, admission per claim against the configured limits, and the overview', async () => {
    const { job: done } = await endedJob('OV-1');
    const running = await createClaimedJob(prisma, { key: 'OV-2' });
    const live = await prisma.worker.create({ data: { jobId: running.id, attempt: 1, launcher: 'local', launcherHandle: '777', tokenHash: 'x', state: 'connected' } });
    const waiting = await createPendingJob(prisma, { key: 'OV-3' });
    await prisma.job.update({ where: { id: waiting.id }, data: { waitingReason: 'waiting for claim (2/2 active)' } });
    const dropped = await createPendingJob(prisma, { key: 'OV-4' });
    await prisma.job.update({ where: { id: dropped.id }, data: { status: 'cancelled', finishedAt: new Date() } });

    expect((await get<{ items: Array<{ id: string; handle: string }> }>('/api/v1/workers?active=true')).body.items).toEqual([expect.objectContaining({ id: live.id, handle: '777', jobId: running.id })]);
    expect((await get<{ items: unknown[] }>('/api/v1/workers')).body.items).toHaveLength(2);
    expect((await get('/api/v1/admission')).body).toEqual({
      maxActive: 7,
      active: 1,
      claims: [{ claim: running.repository, limit: 2, active: 1, waiting: 1 }],
      waiting: [{ jobId: waiting.id, claim: waiting.repository, reason: 'waiting for claim (2/2 active)', since: waiting.createdAt.toISOString(), notBefore: null }],
    });
    const overview = await get<Record<string, unknown>>('/api/v1/overview');
    expect(overview.body).toEqual({
      active: 1,
      maxActive: 7,
      pending: 1,
      queue: { visible: 0, inFlight: 0, delayed: 0 },
      dlq: { visible: 0, inFlight: 0, delayed: 0 },
      queueErrors: [],
      last24h: { succeeded: 1, failed: 0, cancelled: 1, successRate: 1, medianDurationMs: 80_000 },
    });
    expect(done.status).toBe('succeeded');
  });

  // Declared last, so it runs after the others: every JSON endpoint was checked against its schema at least once.
  it('has checked every JSON endpoint against the OpenAPI document', () => {
    expect([...checked].sort()).toEqual(
      [
        '/api/v1/admission',
        '/api/v1/deliveries',
        '/api/v1/deliveries/:id',
        '/api/v1/incidents',
        '/api/v1/incidents/:id',
        '/api/v1/jobs',
        '/api/v1/jobs/:id',
        '/api/v1/overview',
        '/api/v1/queues',
        '/api/v1/workers',
      ].sort(),
    );
  });
});
