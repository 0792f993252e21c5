import { classifyMessage, type AlarmFacts, type RouteRepository, type UpdateComment } from '@agent-conductor/scheduling-domain';
import { PrismaClient, type Job } from '../generated/prisma/client';
import { createPrismaClient } from '../prisma-client';
import { serverUrl, truncateAppTables } from '../../test/support';
import { ConsoleQueryError, ConsoleQueryRepository, CONSOLE_COMMENT_CHARS, CONSOLE_EVENT_LIMIT, CONSOLE_RELATED_LIMIT, decodeCursor, encodeCursor, type Page } from './console-query.repository';
import { IngestRepository } from './ingest.repository';
import { JobRepository, type JobResultRecord } from './job.repository';

const REPOSITORY = 'https://github.com/acme/orders-api.git';

const alarmAt = (name: string, at: string, state: AlarmFacts['state'] = 'ALARM'): AlarmFacts => ({
  account: '123456789012',
  region: 'eu-west-1',
  alarmName: name,
  state,
  reason: 'Threshold Crossed',
  eventTime: new Date(at),
  alarmArn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`,
  metrics: [],
});

describe('ConsoleQueryRepository (real Postgres)', () => {
  let prisma: PrismaClient;
  let ingest: IngestRepository;
  let console: ConsoleQueryRepository;
  let jobs: JobRepository;
  let sequence = 0;

  beforeAll(() => {
    prisma = createPrismaClient(serverUrl());
    ingest = new IngestRepository({ databaseUrl: serverUrl() });
    console = new ConsoleQueryRepository(prisma);
    jobs = new JobRepository(prisma);
  });
  afterAll(() => Promise.all([prisma.$disconnect(), ingest.close()]));
  beforeEach(() => truncateAppTables(serverUrl()));

  /** A ticket job the way the scheduler records it. */
  async function ticketJob(key: string, route: { repository?: string; claim?: string; claimLimit?: number } = {}): Promise<Job> {
    sequence += 1;
    const result = await ingest.recordMessage({
      sqsMessageId: `msg-${key}-${sequence}`,
      receivedAt: new Date(),
      body: JSON.stringify({ key }),
      classified: {
        classification: 'ticket',
        source: 'jira-issue',
        ticket: { key, externalId: null, projectKey: null, summary: key, description: '', labels: [], components: [], issueType: null, priority: null },
      },
      repository: route.repository ?? REPOSITORY,
      ...(route.claim ? { claim: route.claim } : {}),
      ...(route.claimLimit ? { claimLimit: route.claimLimit } : {}),
      taskMarkdown: `# ${key}`,
    });
    const jobId = result.decisions[0]?.jobId;
    if (!jobId) throw new Error('no job created');
    return prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  }

  async function allPages<T>(read: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
    const pages: T[][] = [];
    let cursor: string | undefined;
    do {
      const page = await read(cursor);
      pages.push(page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  }

  it('pages jobs newest first without losing or repeating one, also when many share a timestamp and rows arrive meanwhile', async () => {
    const jobs: Job[] = [];
    for (let index = 0; index < 7; index += 1) jobs.push(await ticketJob(`PAGE-${index}`));
    // Five jobs in the same millisecond: only the id can order them, so a keyset on time alone would drop or repeat.
    const same = new Date('2026-11-01T10:00:00.000Z');
    for (const job of jobs.slice(0, 5)) await prisma.job.update({ where: { id: job.id }, data: { createdAt: same } });
    await prisma.job.update({ where: { id: jobs[5]?.id }, data: { createdAt: new Date('2026-11-01T09:00:00.000Z') } });
    await prisma.job.update({ where: { id: jobs[6]?.id }, data: { createdAt: new Date('2026-11-01T11:00:00.000Z') } });

    const first = await console.jobs({}, { limit: 2 });
    // A job decided after the first page was read lands on top, not in the pages still to come.
    await ticketJob('PAGE-late');
    const rest = await allPages((cursor) => console.jobs({}, { limit: 2, cursor: cursor ?? first.nextCursor ?? undefined }));
    const seen = [first.items, ...rest].flat().map((item) => item.id);

    const sameIdsDesc = jobs.slice(0, 5).map((job) => job.id).sort().reverse();
    expect(seen).toEqual([jobs[6]?.id, ...sameIdsDesc, jobs[5]?.id]);
    expect(rest.map((page) => page.length)).toEqual([2, 2, 1]);
    const last = await console.jobs({}, { limit: 2, cursor: encodeCursor({ at: new Date('2026-11-01T09:00:00.000Z'), id: jobs[5]?.id ?? '' }) });
    expect(last).toEqual({ items: [], nextCursor: null });
  });

  it('filters jobs by status, kind, repository and key, and pages within the filter', async () => {
    const a = await ticketJob('FLT-1');
    const b = await ticketJob('FLT-2', { repository: 'https://github.com/acme/billing.git' });
    const c = await ticketJob('FLT-3');
    await prisma.job.update({ where: { id: b.id }, data: { status: 'failed', finishedAt: new Date() } });
    await prisma.job.update({ where: { id: c.id }, data: { status: 'failed', finishedAt: new Date() } });
    await ingest.recordMessage({
      sqsMessageId: 'msg-incident',
      receivedAt: new Date(),
      body: '{}',
      classified: { classification: 'alarm', source: 'eventbridge', alarm: alarmAt('api-5xx', '2026-11-01T10:00:00.000Z') },
      repository: REPOSITORY,
    });

    const ids = async (filter: Parameters<ConsoleQueryRepository['jobs']>[0]): Promise<string[]> => (await console.jobs(filter, { limit: 50 })).items.map((item) => item.key);
    expect(await ids({ status: 'failed' })).toEqual(['FLT-3', 'FLT-2']);
    expect(await ids({ status: 'failed', repository: REPOSITORY })).toEqual(['FLT-3']);
    expect(await ids({ kind: 'incident' })).toEqual(['123456789012']);
    expect(await ids({ key: 'FLT-1' })).toEqual(['FLT-1']);
    expect(await ids({ status: 'succeeded' })).toEqual([]);
    const firstFailed = await console.jobs({ status: 'failed' }, { limit: 1 });
    expect(firstFailed.items.map((item) => item.id)).toEqual([c.id]);
    expect((await console.jobs({ status: 'failed' }, { limit: 1, cursor: firstFailed.nextCursor ?? '' })).items.map((item) => item.id)).toEqual([b.id]);
    expect(a.status).toBe('pending');
  });

  it('refuses a cursor it did not issue', async () => {
    for (const bad of ['garbage', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["2026-01-01T00:00:00Z","not-a-uuid"]').toString('base64url')]) {
      await expect(console.jobs({}, { limit: 5, cursor: bad })).rejects.toThrow(ConsoleQueryError);
    }
    const keyset = { at: new Date('2026-11-01T10:00:00.123Z'), id: '0195f3a4-7b1c-7d2e-9f00-123456789abc' };
    expect(decodeCursor(encodeCursor(keyset))).toEqual(keyset);
  });

  it('shapes a job: usage, pull request, duration, waiting reason only while pending', async () => {
    const job = await ticketJob('SHAPE-1');
    const startedAt = new Date('2026-11-01T10:00:00.000Z');
    await prisma.job.update({
      where: { id: job.id },
      data: {
        status: 'succeeded',
        attempts: 2,
        waitingReason: 'waiting for a worker slot (10/10 active)',
        startedAt,
        finishedAt: new Date(startedAt.getTime() + 95_000),
        result: { branch: 'fix/shape-1', pullRequest: 'https://github.com/acme/orders-api/pull/7', title: 'Fix' },
        usage: { inputTokens: 1200, cachedInputTokens: 300, outputTokens: 450, turns: 3, durationMs: 61_000, model: 'gpt-5-codex', contextReused: true },
      },
    });
    const pending = await ticketJob('SHAPE-2');
    await prisma.job.update({ where: { id: pending.id }, data: { waitingReason: 'waiting for a worker slot (1/1 active)' } });

    const items = (await console.jobs({}, { limit: 10 })).items;
    expect(items).toEqual([
      expect.objectContaining({ id: pending.id, status: 'pending', waitingReason: 'waiting for a worker slot (1/1 active)', usage: null, pullRequest: null, durationMs: null }),
      expect.objectContaining({
        id: job.id,
        kind: 'ticket',
        key: 'SHAPE-1',
        status: 'succeeded',
        waitingReason: null,
        repository: REPOSITORY,
        branch: null,
        attempts: 2,
        createdAt: job.createdAt.toISOString(),
        startedAt: '2026-11-01T10:00:00.000Z',
        finishedAt: '2026-11-01T10:01:35.000Z',
        durationMs: 95_000,
        usage: { inputTokens: 1200, cachedInputTokens: 300, outputTokens: 450, turns: 3, model: 'gpt-5-codex', contextReused: true },
        pullRequest: 'https://github.com/acme/orders-api/pull/7',
        rerunOf: null,
        approval: 'none',
        cancelRequestedAt: null,
      }),
    ]);
  });

  it('details a job: attempts with counted heartbeats, the other events in order, and the attempt whose results were uploaded', async () => {
    const job = await ticketJob('DETAIL-1');
    const first = await prisma.worker.create({ data: { jobId: job.id, attempt: 1, launcher: 'local', launcherHandle: '4242', tokenHash: 'h1', state: 'ended', endReason: 'exited without Shutdown' } });
    const second = await prisma.worker.create({ data: { jobId: job.id, attempt: 2, launcher: 'local', tokenHash: 'h2', state: 'connected', handshakeAt: new Date('2026-11-01T10:00:05.000Z') } });
    const at = (seconds: number): Date => new Date(Date.parse('2026-11-01T10:00:00.000Z') + seconds * 1000);
    await prisma.workerEvent.createMany({
      data: [
        { workerId: first.id, type: 'registered', at: at(0) },
        { workerId: first.id, type: 'heartbeat', at: at(1) },
        { workerId: first.id, type: 'results-uploaded', at: at(2), detail: { bytes: 10 } },
        { workerId: second.id, type: 'handshake', at: at(5) },
        { workerId: second.id, type: 'heartbeat', at: at(6) },
        { workerId: second.id, type: 'heartbeat', at: at(7) },
        { workerId: second.id, type: 'agent-error', at: at(8), detail: { message: 'boom' } },
      ],
    });

    const detail = await console.job(job.id);
    expect(detail).toMatchObject({
      id: job.id,
      taskMarkdown: '# DETAIL-1',
      error: null,
      result: null,
      workers: [
        { id: first.id, attempt: 1, state: 'ended', launcher: 'local', endReason: 'exited without Shutdown', heartbeats: 1, lastHeartbeatAt: at(1).toISOString(), connectedAt: null },
        { id: second.id, attempt: 2, state: 'connected', heartbeats: 2, lastHeartbeatAt: at(7).toISOString(), connectedAt: '2026-11-01T10:00:05.000Z' },
      ],
      events: [
        { at: at(0).toISOString(), workerId: first.id, type: 'registered', detail: null },
        { at: at(2).toISOString(), workerId: first.id, type: 'results-uploaded', detail: { bytes: 10 } },
        { at: at(5).toISOString(), workerId: second.id, type: 'handshake', detail: null },
        { at: at(8).toISOString(), workerId: second.id, type: 'agent-error', detail: { message: 'boom' } },
      ],
      eventsTruncated: false,
      resultsFrom: { workerId: first.id, attempt: 1 },
      incidentId: null,
    });
    // A later attempt that uploads takes over.
    await prisma.workerEvent.create({ data: { workerId: second.id, type: 'results-uploaded', at: at(9) } });
    expect((await console.job(job.id))?.resultsFrom).toEqual({ workerId: second.id, attempt: 2 });
    expect(await console.job('0195f3a4-7b1c-7d2e-9f00-123456789abc')).toBeNull();
    expect(await console.job('not-a-uuid')).toBeNull();
  });

  it('keeps the latest events when a job has more than the limit', async () => {
    const job = await ticketJob('MANY-1');
    const worker = await prisma.worker.create({ data: { jobId: job.id, attempt: 1, launcher: 'local', tokenHash: 'h', state: 'connected' } });
    await prisma.workerEvent.createMany({
      data: Array.from({ length: CONSOLE_EVENT_LIMIT + 3 }, (_, index) => ({ workerId: worker.id, type: `step-${index}`, at: new Date(Date.UTC(2026, 10, 1) + index) })),
    });
    const detail = await console.job(job.id);
    expect(detail?.events).toHaveLength(CONSOLE_EVENT_LIMIT);
    expect(detail?.eventsTruncated).toBe(true);
    expect(detail?.events[0]?.type).toBe('step-3');
    expect(detail?.events[CONSOLE_EVENT_LIMIT - 1]?.type).toBe(`step-${CONSOLE_EVENT_LIMIT + 2}`);
  });

  it('lists incidents with their job, and one incident with its alarms by event time', async () => {
    const record = (id: string, alarm: AlarmFacts) =>
      ingest.recordMessage({ sqsMessageId: id, receivedAt: new Date(), body: '{}', classified: { classification: 'alarm', source: 'eventbridge', alarm }, repository: REPOSITORY });
    const spawned = await record('a1', alarmAt('api-5xx', '2026-11-01T10:00:00.000Z'));
    await record('a2', alarmAt('db-cpu', '2026-11-01T10:20:00.000Z'));
    await record('a3', alarmAt('api-5xx', '2026-11-01T10:30:00.000Z', 'OK'));
    const incidentId = spawned.decisions[0]?.incidentId ?? '';

    const list = await console.incidents({ limit: 10 });
    expect(list).toEqual({
      items: [
        {
          id: incidentId,
          account: '123456789012',
          firstAlarmAt: '2026-11-01T10:00:00.000Z',
          lastAlarmAt: '2026-11-01T10:20:00.000Z',
          alarmCount: 2,
          jobId: spawned.decisions[0]?.jobId,
          jobStatus: 'pending',
          createdAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
    const detail = await console.incident(incidentId);
    expect(detail?.alarms.map((alarm) => [alarm.name, alarm.state, alarm.at, alarm.region])).toEqual([
      ['api-5xx', 'ALARM', '2026-11-01T10:00:00.000Z', 'eu-west-1'],
      ['db-cpu', 'ALARM', '2026-11-01T10:20:00.000Z', 'eu-west-1'],
      ['api-5xx', 'OK', '2026-11-01T10:30:00.000Z', 'eu-west-1'],
    ]);
    expect((await console.job(spawned.decisions[0]?.jobId ?? ''))?.incidentId).toBe(incidentId);
  });

  it('lists deliveries, rejected ones alone on request, and gives one with its raw body', async () => {
    const job = await ticketJob('DLV-1');
    const rejected = await ingest.recordMessage({
      sqsMessageId: 'msg-bad',
      receivedAt: new Date(Date.now() + 1000),
      body: 'not json at all',
      classified: { classification: 'rejected', reason: 'body is not JSON' },
      repository: REPOSITORY,
    });
    expect((await console.deliveries({}, { limit: 10 })).items.map((item) => item.id)).toEqual([rejected.deliveryId, job.deliveryId]);
    expect(await console.deliveries({ rejected: true }, { limit: 10 })).toEqual({
      items: [{ id: rejected.deliveryId, receivedAt: expect.any(String), classification: 'rejected', rejectionReason: 'body is not JSON', sqsMessageId: 'msg-bad', jobIds: [] }],
      nextCursor: null,
    });
    expect((await console.deliveries({ rejected: false }, { limit: 10 })).items).toEqual([expect.objectContaining({ id: job.deliveryId, classification: 'ticket', jobIds: [job.id] })]);
    expect(await console.delivery(rejected.deliveryId)).toMatchObject({ body: 'not json at all', rejectionReason: 'body is not JSON' });
    expect((await console.deliveries({}, { limit: 10 })).items[0]).not.toHaveProperty('body');
  });

  it('lists workers, the active ones alone on request, without their token hash', async () => {
    const job = await ticketJob('WRK-1');
    const ended = await prisma.worker.create({ data: { jobId: job.id, attempt: 1, launcher: 'ecs', launcherHandle: 'arn:aws:ecs:eu-west-1:1:task/c/abc', tokenHash: 'secret-hash', state: 'ended' } });
    const live = await prisma.worker.create({ data: { jobId: job.id, attempt: 2, launcher: 'local', launcherHandle: '4242', tokenHash: 'secret-hash', state: 'connected' } });
    expect((await console.workers({}, { limit: 10 })).items.map((item) => item.id)).toEqual([live.id, ended.id]);
    const active = await console.workers({ active: true }, { limit: 10 });
    expect(active.items).toEqual([
      { id: live.id, jobId: job.id, attempt: 2, state: 'connected', launcher: 'local', handle: '4242', launchedAt: null, lastHeartbeatAt: live.lastEventAt.toISOString(), endReason: null },
    ]);
    expect(JSON.stringify(await console.workers({}, { limit: 10 }))).not.toContain('secret-hash');
  });

  it('counts active jobs per claim against the line of waiting jobs', async () => {
    const running = await ticketJob('ADM-1');
    const waiting = await ticketJob('ADM-2');
    const shared = await ticketJob('ADM-3', { claim: 'team-payments', claimLimit: 2 });
    await prisma.job.update({ where: { id: running.id }, data: { status: 'running' } });
    await prisma.job.update({ where: { id: shared.id }, data: { status: 'launching' } });
    await prisma.job.update({ where: { id: waiting.id }, data: { waitingReason: `waiting for claim ${REPOSITORY} (1/1 active)` } });
    await ticketJob('ADM-4', { repository: 'https://github.com/acme/done.git' }).then((done) => prisma.job.update({ where: { id: done.id }, data: { status: 'succeeded' } }));
    const retrying = await ticketJob('ADM-5');
    const notBefore = new Date('2026-11-01T10:00:00.000Z');
    await prisma.job.update({ where: { id: retrying.id }, data: { nextAttemptAt: notBefore } });

    expect(await console.admission()).toEqual({
      active: 2,
      claims: [
        { claim: REPOSITORY, limit: null, active: 1, waiting: 2 },
        { claim: 'team-payments', limit: 2, active: 1, waiting: 0 },
      ],
      waiting: [
        { jobId: waiting.id, claim: REPOSITORY, reason: `waiting for claim ${REPOSITORY} (1/1 active)`, since: waiting.createdAt.toISOString(), notBefore: null },
        { jobId: retrying.id, claim: REPOSITORY, reason: null, since: retrying.createdAt.toISOString(), notBefore: notBefore.toISOString() },
      ],
    });
  });

  it('sums up the last day: outcomes of jobs that ended in it (cancelled too) and the median duration of those that ran their course', async () => {
    const now = Date.now();
    const ended = async (key: string, status: 'succeeded' | 'failed' | 'cancelled', durationMs: number, endedMsAgo: number): Promise<void> => {
      const job = await ticketJob(key);
      const finishedAt = new Date(now - endedMsAgo);
      await prisma.job.update({ where: { id: job.id }, data: { status, startedAt: new Date(finishedAt.getTime() - durationMs), finishedAt } });
    };
    await ended('S-1', 'succeeded', 60_000, 1000);
    await ended('S-2', 'succeeded', 120_000, 2000);
    await ended('S-3', 'failed', 30_000, 3000);
    await ended('S-OLD', 'succeeded', 999_000, 2 * 24 * 3_600_000);
    // Long enough to move the median if it counted: an operator's stop is not an agent's duration.
    await ended('S-STOP-1', 'cancelled', 900_000, 4000);
    await ended('S-STOP-2', 'cancelled', 800_000, 5000);
    await ended('S-STOP-OLD', 'cancelled', 1000, 2 * 24 * 3_600_000);
    await ticketJob('S-PENDING');
    await ticketJob('S-RUN').then((job) => prisma.job.update({ where: { id: job.id }, data: { status: 'running' } }));

    expect(await console.jobStats(new Date(now - 24 * 3_600_000))).toEqual({ active: 1, pending: 1, succeeded: 2, failed: 1, cancelled: 2, medianDurationMs: 60_000 });
    await truncateAppTables(serverUrl());
    expect(await console.jobStats(new Date(now - 24 * 3_600_000))).toEqual({ active: 0, pending: 0, succeeded: 0, failed: 0, cancelled: 0, medianDurationMs: null });
  });

  /** The job runs and its worker's Shutdown ends it (JobRepository.finish, which also keeps its pull request). */
  async function ended(jobId: string, result: JobResultRecord & { changes?: Array<{ name: string; branch: string; pullRequest: string }> }): Promise<void> {
    await prisma.job.update({ where: { id: jobId }, data: { status: 'running', startedAt: new Date(), attempts: 1 } });
    expect(await jobs.finish(jobId, { status: 'succeeded', result })).toBe('succeeded');
  }

  /** A review comment on `pullRequest` as the scheduler records it (docs/follow-ups.md). */
  function reviewComment(pullRequest: string, id: number, body: string, at: string, place: { path: string; line: number } | null = null) {
    sequence += 1;
    const comment: UpdateComment = {
      source: 'github',
      externalId: `github:review-comment:${id}`,
      thread: { kind: 'pull-request', url: pullRequest },
      author: `reviewer-${id}`,
      authorAliases: [],
      authorAssociation: 'MEMBER',
      body,
      path: place?.path ?? null,
      line: place?.line ?? null,
      url: `${pullRequest}#discussion_r${id}`,
      commentedAt: new Date(at),
      pullRequestState: 'open',
    };
    return ingest.recordMessage({
      sqsMessageId: `msg-comment-${id}-${sequence}`,
      receivedAt: new Date(),
      body: '{}',
      classified: { classification: 'update', source: 'github', update: { kind: 'comment', event: 'pull_request_review_comment', comment } },
      repository: REPOSITORY,
    });
  }

  it('shows a follow-up thread: the requests a follow-up answers, oldest first, and the follow-ups of the thread from either end', async () => {
    const pullRequest = 'https://github.com/acme/orders-api/pull/41';
    const first = await ticketJob('THREAD-1');
    await ended(first.id, { branch: 'agent/THREAD-1', pullRequest, title: 'Fix it' });
    const long = `@agent ${'x'.repeat(CONSOLE_COMMENT_CHARS)}`;
    // Delivered out of order: the console lists them by the comments' own time.
    const spawned = await reviewComment(pullRequest, 2, '@agent <script>alert(1)</script> **rename** it', '2026-11-01T10:05:00.000Z', { path: 'src/app.ts', line: 12 });
    const batched = await reviewComment(pullRequest, 1, long, '2026-11-01T10:00:00.000Z');
    const followUpId = spawned.followUp?.jobId ?? '';
    expect(batched.followUp).toEqual({ outcome: 'batched', jobId: followUpId, threadJobId: first.id });

    const followUp = await console.job(followUpId);
    expect(followUp).toMatchObject({ id: followUpId, followUpOf: first.id, status: 'pending', pullRequest: null });
    expect(followUp?.followUpRequests).toEqual([
      {
        id: expect.any(String),
        source: 'github',
        author: 'reviewer-1',
        body: long.slice(0, CONSOLE_COMMENT_CHARS),
        bodyTruncated: true,
        path: null,
        line: null,
        url: `${pullRequest}#discussion_r1`,
        commentedAt: '2026-11-01T10:00:00.000Z',
        deliveryId: batched.deliveryId,
      },
      {
        id: expect.any(String),
        source: 'github',
        author: 'reviewer-2',
        body: '@agent <script>alert(1)</script> **rename** it',
        bodyTruncated: false,
        path: 'src/app.ts',
        line: 12,
        url: `${pullRequest}#discussion_r2`,
        commentedAt: '2026-11-01T10:05:00.000Z',
        deliveryId: spawned.deliveryId,
      },
    ]);
    expect(followUp?.followUpRequestsTruncated).toBe(false);
    const thread = { firstJobId: first.id, pullRequest, followUps: [{ id: followUpId, status: 'pending', createdAt: expect.any(String), finishedAt: null, pullRequest: null, requests: 2 }], followUpsTruncated: false };
    expect(followUp?.thread).toEqual(thread);

    // The first job lists its thread too, and answers no request itself.
    const firstDetail = await console.job(first.id);
    expect(firstDetail).toMatchObject({ followUpOf: null, pullRequest, followUpRequests: [], thread });

    // The follow-up ends having pushed to the pull request; a comment after that starts the thread's second follow-up.
    await ended(followUpId, { branch: 'agent/THREAD-1', pullRequest, title: 'Follow-up' });
    const next = await reviewComment(pullRequest, 3, '@agent and the tests', '2026-11-01T11:00:00.000Z');
    const again = await console.job(next.followUp?.jobId ?? '');
    expect(again?.thread?.followUps.map((entry) => [entry.id, entry.status, entry.pullRequest, entry.requests])).toEqual([
      [followUpId, 'succeeded', pullRequest, 2],
      [next.followUp?.jobId, 'pending', null, 1],
    ]);
    expect(again?.followUpRequests.map((request) => request.author)).toEqual(['reviewer-3']);

    // A job that no one followed up has no thread.
    expect((await console.job((await ticketJob('LONE-1')).id))?.thread).toBeNull();
  });

  it("shows every incident of a job over several accounts, its own first, and each repository with its change's pull request", async () => {
    const group = { name: 'checkout', accounts: ['111111111111', '222222222222'] };
    const orders: RouteRepository = { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: [] };
    const billing: RouteRepository = { url: 'https://github.com/acme/billing.git', branch: 'release', name: 'billing', sparsePaths: ['src'] };
    const alarmOf = (account: string, name: string, at: string): AlarmFacts => ({ ...alarmAt(name, at), account, alarmArn: null });
    const record = (id: string, alarm: AlarmFacts, repositories: RouteRepository[]) =>
      ingest.recordMessage({
        sqsMessageId: id,
        receivedAt: new Date(),
        body: '{}',
        classified: { classification: 'alarm', source: 'eventbridge', alarm },
        repository: repositories[0]?.url ?? '',
        repositories,
        incidentGroup: group,
      });
    const own = await record('g1', alarmOf('111111111111', 'orders-5xx', '2026-11-01T10:00:00.000Z'), [orders]);
    const attached = await record('g2', alarmOf('222222222222', 'billing-latency', '2026-11-01T10:10:00.000Z'), [billing]);
    await record('g3', alarmOf('222222222222', 'billing-errors', '2026-11-01T10:12:00.000Z'), [billing]);
    const jobId = own.decisions[0]?.jobId ?? '';
    expect(attached.alarm).toMatchObject({ outcome: 'attached', jobId });

    const pending = await console.job(jobId);
    expect(pending?.incidentId).toBe(own.decisions[0]?.incidentId);
    expect(pending?.incidents).toEqual([
      { id: own.decisions[0]?.incidentId, account: '111111111111', firstAlarmAt: '2026-11-01T10:00:00.000Z', lastAlarmAt: '2026-11-01T10:00:00.000Z', alarmCount: 1 },
      { id: attached.alarm?.incidentId, account: '222222222222', firstAlarmAt: '2026-11-01T10:10:00.000Z', lastAlarmAt: '2026-11-01T10:12:00.000Z', alarmCount: 2 },
    ]);
    expect(pending?.incidentsTruncated).toBe(false);
    expect(pending?.repositories).toEqual([
      { ...orders, change: null },
      { ...billing, change: null },
    ]);

    // The agent changed billing alone: only it has a branch and pull request.
    const billingPullRequest = 'https://github.com/acme/billing/pull/5';
    await ended(jobId, { branch: 'fix/latency', pullRequest: billingPullRequest, title: 'Fix', changes: [{ name: 'billing', branch: 'fix/latency', pullRequest: billingPullRequest }] });
    const done = await console.job(jobId);
    expect(done?.repositories).toEqual([
      { ...orders, change: null },
      { ...billing, change: { branch: 'fix/latency', pullRequest: billingPullRequest } },
    ]);
    // Its follow-up continues the billing pull request alone: it lists no repositories of its own.
    const followUp = await reviewComment(billingPullRequest, 90, '@agent also the retries', '2026-11-01T12:00:00.000Z');
    const followUpJob = await prisma.job.findUniqueOrThrow({ where: { id: followUp.followUp?.jobId ?? '' } });
    expect(followUpJob.repositories).toEqual([orders, billing]);
    expect(await console.job(followUpJob.id)).toMatchObject({ followUpOf: jobId, repositories: [], incidents: [], thread: { firstJobId: jobId, pullRequest: billingPullRequest } });
    // A job on one repository lists none: its repository and branch say it all.
    expect((await console.job((await ticketJob('ONE-REPO')).id))?.repositories).toEqual([]);
  });

  /** A GitHub review comment as the ingress queues it, stored and decided the way the scheduler does. */
  function deliveredReviewComment(pullRequest: string, id: number, body: string, options: { login?: string; association?: string; at?: string; receivedAt?: Date } = {}) {
    sequence += 1;
    const message = JSON.stringify({
      githubWebhook: { deliveryId: `gh-${id}-${sequence}`, event: 'pull_request_review_comment' },
      payload: {
        action: 'created',
        pull_request: { html_url: pullRequest, state: 'open', merged: false, merged_at: null },
        comment: {
          id,
          body,
          path: 'src/app.ts',
          line: 7,
          user: { login: options.login ?? 'octo-reviewer' },
          author_association: options.association ?? 'MEMBER',
          created_at: options.at ?? '2026-11-01T10:00:00Z',
          html_url: `${pullRequest}#discussion_r${id}`,
        },
      },
    });
    return ingest.recordMessage({
      sqsMessageId: `msg-delivered-${id}-${sequence}`,
      receivedAt: options.receivedAt ?? new Date(),
      body: message,
      classified: classifyMessage(message),
      repository: REPOSITORY,
      followUpPolicy: { mention: '@agent', systemLogins: ['agent-conductor[bot]'] },
    });
  }

  it("lists the comments a thread did not act on, newest first, with the reason, on the first job's page and each follow-up's", async () => {
    const pullRequest = 'https://github.com/acme/orders-api/pull/52';
    const first = await ticketJob('REFUSED-1');
    await ended(first.id, { branch: 'agent/REFUSED-1', pullRequest, title: 'Fix it' });
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 10, minute));

    const noAccess = await deliveredReviewComment(pullRequest, 501, '@agent <img src=x onerror=alert(1)> push it', { login: 'drive-by', association: 'CONTRIBUTOR', receivedAt: at(1) });
    const chatter = await deliveredReviewComment(pullRequest, 502, 'Looks fine to me', { at: '2026-11-01T10:02:00Z', receivedAt: at(2) });
    const accepted = await deliveredReviewComment(pullRequest, 503, '@agent rename it', { receivedAt: at(3) });
    // The system's own reply, and a comment on a pull request no job opened: listed on no job's page.
    await deliveredReviewComment(pullRequest, 504, 'Done.', { login: 'agent-conductor[bot]', receivedAt: at(4) });
    await deliveredReviewComment('https://github.com/acme/elsewhere/pull/1', 505, '@agent fix', { receivedAt: at(5) });
    const long = await deliveredReviewComment(pullRequest, 506, `nit ${'y'.repeat(CONSOLE_COMMENT_CHARS)}`, { receivedAt: at(6) });
    expect([noAccess.classification, chatter.classification, accepted.classification]).toEqual(['rejected', 'update', 'update']);

    const firstDetail = await console.job(first.id);
    expect(firstDetail?.commentsNotActedOn).toEqual([
      {
        deliveryId: long.deliveryId,
        receivedAt: at(6).toISOString(),
        classification: 'update',
        reason: long.rejectionReason,
        source: 'github',
        author: 'octo-reviewer',
        body: `nit ${'y'.repeat(CONSOLE_COMMENT_CHARS)}`.slice(0, CONSOLE_COMMENT_CHARS),
        bodyTruncated: true,
        path: 'src/app.ts',
        line: 7,
        url: `${pullRequest}#discussion_r506`,
        commentedAt: '2026-11-01T10:00:00.000Z',
      },
      {
        deliveryId: chatter.deliveryId,
        receivedAt: at(2).toISOString(),
        classification: 'update',
        reason: 'github pull_request_review_comment github:review-comment:502 by octo-reviewer: not addressed to the agent (it does not start with @agent); recorded, it starts nothing',
        source: 'github',
        author: 'octo-reviewer',
        body: 'Looks fine to me',
        bodyTruncated: false,
        path: 'src/app.ts',
        line: 7,
        url: `${pullRequest}#discussion_r502`,
        commentedAt: '2026-11-01T10:02:00.000Z',
      },
      {
        deliveryId: noAccess.deliveryId,
        receivedAt: at(1).toISOString(),
        classification: 'rejected',
        reason: expect.stringContaining('by drive-by: the author has no write access to the repository (author_association CONTRIBUTOR'),
        source: 'github',
        author: 'drive-by',
        body: '@agent <img src=x onerror=alert(1)> push it',
        bodyTruncated: false,
        path: 'src/app.ts',
        line: 7,
        url: `${pullRequest}#discussion_r501`,
        commentedAt: '2026-11-01T10:00:00.000Z',
      },
    ]);
    expect(firstDetail?.commentsNotActedOnTruncated).toBe(false);
    // The follow-up the accepted comment started shows its thread's list too, and the comment itself as a request.
    const followUp = await console.job(accepted.followUp?.jobId ?? '');
    expect(followUp?.commentsNotActedOn.map((comment) => comment.deliveryId)).toEqual([long.deliveryId, chatter.deliveryId, noAccess.deliveryId]);
    expect(followUp?.followUpRequests.map((request) => request.deliveryId)).toEqual([accepted.deliveryId]);
    // A job nobody commented on lists nothing.
    expect((await console.job((await ticketJob('QUIET-1')).id))?.commentsNotActedOn).toEqual([]);

    // A body that no longer reads as a comment still shows its delivery and reason.
    await prisma.delivery.update({ where: { id: noAccess.deliveryId }, data: { body: '{}' } });
    expect((await console.job(first.id))?.commentsNotActedOn[2]).toMatchObject({
      deliveryId: noAccess.deliveryId,
      classification: 'rejected',
      source: 'unknown',
      author: 'unknown',
      body: '',
      commentedAt: at(1).toISOString(),
    });
  });

  it('lists at most CONSOLE_RELATED_LIMIT comments not acted on, the newest, and says more exist', async () => {
    const pullRequest = 'https://github.com/acme/orders-api/pull/53';
    const first = await ticketJob('REFUSED-2');
    await ended(first.id, { branch: 'agent/REFUSED-2', pullRequest, title: 'Fix it' });
    const start = Date.UTC(2026, 10, 2, 9, 0);
    for (let index = 0; index <= CONSOLE_RELATED_LIMIT; index += 1) {
      await deliveredReviewComment(pullRequest, 600 + index, `note ${index}`, { receivedAt: new Date(start + index * 1000) });
    }
    const detail = await console.job(first.id);
    expect(detail?.commentsNotActedOn).toHaveLength(CONSOLE_RELATED_LIMIT);
    expect(detail?.commentsNotActedOn[0]?.body).toBe(`note ${CONSOLE_RELATED_LIMIT}`);
    expect(detail?.commentsNotActedOn[CONSOLE_RELATED_LIMIT - 1]?.body).toBe('note 1');
    expect(detail?.commentsNotActedOnTruncated).toBe(true);
  });
});
