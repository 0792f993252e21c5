import { schedulerV1 } from '@agent-conductor/contracts';
import { AdmissionRepository, createPrismaClient, Job, JobRepository, PrismaClient } from '@agent-conductor/db';
import { DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { eventually, freePort, githubReviewEvent, jiraCommentCreated, jiraIssueUpdated, resetDatabase } from '@agent-conductor/testing';
import { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapScheduler } from '../src/bootstrap';
import { SchedulerConfigValues } from '../src/config/env.validators';
import { SchedulerTestClient } from './scheduler-client';

const { MessageClassification, SpawnKind } = schedulerV1;
const REPOSITORY = '/srv/git/sample-app.git';
const PR = 'https://github.com/acme/sample-app/pull/7';
const SYSTEM_LOGIN = 'agent-conductor[bot]';
const LIMITS = { maxActiveJobs: 10, claimMaxActiveJobs: 5 };

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through `nx test scheduler` (libs/testing global setup)');
  return url;
}

/** A Jira issue for `key`, as the intake queue delivers it. */
function jiraIssue(key: string): string {
  const issue = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'jira-issue.json'), 'utf8')) as { key: string };
  issue.key = key;
  return JSON.stringify(issue);
}

describe('follow-ups over gRPC: review events and Jira comments become follow-up jobs', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;
  let jobs: JobRepository;
  let admission: AdmissionRepository;
  let counter = 0;
  const receivedAt = '2026-05-12T18:22:14.000Z';
  const submit = (body: string) => client.submitMessage({ messageId: `fu-msg-${(counter += 1)}`, body, receivedAt });

  /**
   * A ticket's job that ran and opened `pullRequest`: decided by the scheduler, admitted, running, and ended through
   * the Shutdown's own writer (JobRepository.finish), which keeps the pull request on the row.
   */
  async function endedTicketJob(key: string, pullRequest = PR, status: 'succeeded' | 'failed' = 'succeeded'): Promise<Job> {
    const decided = await submit(jiraIssue(key));
    const jobId = decided.decisions[0]?.jobId ?? '';
    await start(jobId);
    await jobs.finish(jobId, { status, result: { branch: `agent/${key}`, pullRequest, title: `Fix ${key}` } });
    return prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  }

  /** The job is admitted (its pass claims it) and its worker handshakes. */
  async function start(jobId: string): Promise<void> {
    const pass = await admission.admit(LIMITS);
    expect(pass.admitted.map((job) => job.id)).toContain(jobId);
    await jobs.markRunning(jobId);
  }

  const reviewComment = (id: number, body: string, extra: Partial<Parameters<typeof githubReviewEvent>[1]> = {}) =>
    githubReviewEvent('pull_request_review_comment', { pullRequest: PR, id, body, ...extra });

  beforeAll(async () => {
    const config: SchedulerConfigValues = {
      production: false,
      databaseUrl: databaseUrl(),
      dbConnectTimeoutMs: 0,
      grpcListenAddr: `127.0.0.1:${await freePort()}`,
      defaultRepositoryUrl: REPOSITORY,
      defaultRepositoryBranch: 'main',
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      followUpPolicy: { mention: '@agent', systemLogins: [SYSTEM_LOGIN] },
    };
    app = await bootstrapScheduler(config, { logger: false });
    client = new SchedulerTestClient(config.grpcListenAddr);
    prisma = createPrismaClient(databaseUrl());
    jobs = new JobRepository(prisma);
    admission = new AdmissionRepository(prisma);
  });
  afterAll(async () => {
    client?.close();
    await prisma?.$disconnect();
    await app?.close();
  });
  beforeEach(() => resetDatabase(prisma));

  it('keeps the pull request of an ended job on its row (the Shutdown writer)', async () => {
    const first = await endedTicketJob('ENG-1');
    expect(first).toMatchObject({ status: 'succeeded', pullRequest: PR });
  });

  it('turns an addressed review comment on a system pull request into one pending follow-up job', async () => {
    const first = await endedTicketJob('ENG-1');
    const response = await submit(reviewComment(101, '@agent rename `foo` to `bar` here', { path: 'src/app.ts', line: 12 }));

    expect(response).toEqual({
      deliveryId: expect.any(String),
      classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE,
      rejectionReason: '',
      duplicate: false,
      decisions: [{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_FOLLOW_UP, key: 'ENG-1', repository: REPOSITORY }],
    });
    const followUp = await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId } });
    expect(followUp).toMatchObject({
      kind: 'ticket',
      key: 'ENG-1',
      ticketId: null,
      deliveryId: response.deliveryId,
      status: 'pending',
      followUpOfId: first.id,
      repository: first.repository,
      branch: first.branch,
      sparsePaths: first.sparsePaths,
      workerTaskDefinition: first.workerTaskDefinition,
      claimKey: first.claimKey,
      claimLimit: first.claimLimit,
      maxTokens: first.maxTokens,
      approval: 'none',
      pullRequest: null,
    });
    expect(followUp.taskMarkdown).toContain(PR);
    expect(await prisma.followUpRequest.findMany()).toEqual([
      expect.objectContaining({
        deliveryId: response.deliveryId,
        source: 'github',
        externalId: 'github:review-comment:101',
        threadJobId: first.id,
        followUpJobId: followUp.id,
        author: 'octo-reviewer',
        body: '@agent rename `foo` to `bar` here',
        path: 'src/app.ts',
        line: 12,
        url: `${PR}#discussion_r101`,
        commentedAt: new Date('2026-05-12T18:20:00Z'),
      }),
    ]);
    const delivery = await prisma.delivery.findUniqueOrThrow({ where: { id: response.deliveryId } });
    expect(delivery).toMatchObject({ classification: 'update', rejectionReason: null, ticketId: null });
  });

  it('batches two comments that arrive while the follow-up waits into that one job', async () => {
    await endedTicketJob('ENG-1');
    const first = await submit(reviewComment(101, '@agent rename it'));
    const second = await submit(githubReviewEvent('pull_request_review', { pullRequest: PR, id: 7, body: '@agent and add a test' }));

    expect(first.decisions).toHaveLength(1);
    expect(second).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE, rejectionReason: '', decisions: [] });
    const followUpJobId = first.decisions[0]?.jobId;
    expect(await prisma.job.count({ where: { followUpOfId: { not: null } } })).toBe(1);
    const requests = await prisma.followUpRequest.findMany({ where: { followUpJobId }, orderBy: { createdAt: 'asc' } });
    expect(requests.map((request) => request.externalId)).toEqual(['github:review-comment:101', 'github:review:7']);
  });

  it('batches comments submitted at the same time into one follow-up job, one request each', async () => {
    const first = await endedTicketJob('ENG-1');
    // Six transactions held at the same point, then let go together: without the thread lock each would decide that
    // no follow-up is waiting and create its own.
    let submitted: Promise<schedulerV1.SubmitMessageResponse[]> | undefined;
    await prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT "id" FROM "jobs" WHERE "id" = ${first.id}::uuid FOR UPDATE`;
        submitted = Promise.all(Array.from({ length: 6 }, (_, index) => submit(reviewComment(300 + index, `@agent change ${index}`))));
        await eventually('six submissions waiting on a lock', async () => {
          const [row] = await prisma.$queryRaw<Array<{ waiting: number }>>`SELECT count(*)::int AS "waiting" FROM pg_stat_activity WHERE "wait_event_type" = 'Lock' AND "datname" = current_database()`;
          return (row?.waiting ?? 0) >= 6 ? true : undefined;
        });
      },
      { timeout: 30_000 },
    );
    const responses = await (submitted ?? Promise.resolve([]));
    expect(responses.flatMap((response) => response.decisions)).toHaveLength(1);
    expect(await prisma.job.count({ where: { followUpOfId: { not: null } } })).toBe(1);
    const requests = await prisma.followUpRequest.findMany();
    expect(requests).toHaveLength(6);
    expect(new Set(requests.map((request) => request.followUpJobId))).toEqual(new Set([responses.flatMap((response) => response.decisions)[0]?.jobId]));
  });

  it('never adds a comment to a follow-up that admission is claiming: it waits for the claim, then starts the next one', async () => {
    await endedTicketJob('ENG-1');
    const waiting = (await submit(reviewComment(101, '@agent rename it'))).decisions[0]?.jobId ?? '';
    let submitted: Promise<schedulerV1.SubmitMessageResponse> | undefined;
    // Admission's claim of the waiting follow-up, still uncommitted while the comment arrives.
    await prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`UPDATE "jobs" SET "status" = 'launching', "attempts" = "attempts" + 1 WHERE "id" = ${waiting}::uuid AND "status" = 'pending'`;
        submitted = submit(reviewComment(102, '@agent and the docs'));
        let answered = false;
        void submitted.finally(() => (answered = true)).catch(() => undefined);
        // It must wait on the claimed row; one that does not (the bug) answers at once and fails the checks below.
        await eventually('the comment waiting on the claimed row, or its answer', async () => {
          const [row] = await prisma.$queryRaw<Array<{ waiting: number }>>`SELECT count(*)::int AS "waiting" FROM pg_stat_activity WHERE "wait_event_type" = 'Lock' AND "datname" = current_database()`;
          return (row?.waiting ?? 0) >= 1 || answered ? true : undefined;
        });
      },
      { timeout: 30_000 },
    );
    const later = await (submitted ?? Promise.reject(new Error('not submitted')));
    expect(later.decisions).toEqual([{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_FOLLOW_UP, key: 'ENG-1', repository: REPOSITORY }]);
    expect(await prisma.followUpRequest.count({ where: { followUpJobId: waiting } })).toBe(1);
  });

  it('queues a comment made while the follow-up runs as a second job, which admission holds until the first ends', async () => {
    const first = await endedTicketJob('ENG-1');
    const running = (await submit(reviewComment(101, '@agent rename it'))).decisions[0]?.jobId ?? '';
    await start(running);

    const later = await submit(githubReviewEvent('issue_comment', { pullRequest: PR, id: 55, body: '@agent also update the changelog' }));
    const waiting = later.decisions[0]?.jobId ?? '';
    expect(later.decisions).toEqual([{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_FOLLOW_UP, key: 'ENG-1', repository: REPOSITORY }]);
    expect(waiting).not.toBe(running);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: waiting } })).toMatchObject({ followUpOfId: first.id, status: 'pending' });

    const held = await admission.admit(LIMITS);
    expect(held.admitted).toEqual([]);
    expect(held.waiting).toEqual([expect.objectContaining({ id: waiting, reason: `waiting for job ${running} of its follow-up thread to end (one job per pull request at a time)` })]);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: waiting } })).toMatchObject({ status: 'pending', waitingReason: held.waiting[0]?.reason });

    // The running follow-up pushed to the same pull request: its Shutdown keeps it, and the thread stays the first job's.
    await jobs.finish(running, { status: 'succeeded', result: { branch: 'agent/ENG-1', pullRequest: PR, title: 'Rename' } });
    const freed = await admission.admit(LIMITS);
    expect(freed.admitted.map((job) => job.id)).toEqual([waiting]);
    const third = await submit(reviewComment(102, '@agent one more thing'));
    expect(await prisma.job.findUniqueOrThrow({ where: { id: third.decisions[0]?.jobId } })).toMatchObject({ followUpOfId: first.id });
  });

  it('records every refused or unaddressed comment with its reason, linked to its thread when it has one, and starts nothing', async () => {
    const first = await endedTicketJob('ENG-1');
    const closedPr = 'https://github.com/acme/sample-app/pull/8';
    const closedFirst = await endedTicketJob('ENG-2', closedPr);
    const accepted = await submit(reviewComment(101, '@agent rename it'));
    const jobsBefore = await prisma.job.count();

    // thread: the first job whose pages list the comment ("comments not acted on"); the system's own comments and
    // a pull request no job opened are listed nowhere.
    const cases: Array<{ body: string; classification: schedulerV1.MessageClassification; reason: string; thread: string | null }> = [
      {
        body: reviewComment(201, '@agent done, see the new commit.', { login: SYSTEM_LOGIN }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
        reason: `github pull_request_review_comment github:review-comment:201 by ${SYSTEM_LOGIN}: written by Agent Conductor itself (a FOLLOW_UP_SYSTEM_LOGINS login); its own comments never start a follow-up`,
        thread: null,
      },
      {
        body: reviewComment(202, '@agent I pushed the fix.\n\n<!-- agent-conductor: follow-up reply -->', { login: 'someone' }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
        reason: "github pull_request_review_comment github:review-comment:202 by someone: carries Agent Conductor's reply marker, so it is the system's own comment; it never starts a follow-up",
        thread: null,
      },
      {
        body: reviewComment(203, '@agent delete everything', { login: 'drive-by', association: 'CONTRIBUTOR' }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
        reason:
          'github pull_request_review_comment github:review-comment:203 by drive-by: the author has no write access to the repository (author_association CONTRIBUTOR; OWNER, MEMBER, COLLABORATOR may ask for follow-ups)',
        thread: first.id,
      },
      {
        body: githubReviewEvent('pull_request_review_comment', { pullRequest: 'https://github.com/acme/other/pull/3', id: 204, body: '@agent fix' }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
        reason: 'github pull_request_review_comment github:review-comment:204 by octo-reviewer: pull request https://github.com/acme/other/pull/3 was not opened by Agent Conductor (no job has it)',
        thread: null,
      },
      {
        body: githubReviewEvent('pull_request_review_comment', { pullRequest: closedPr, id: 205, body: '@agent fix', state: 'closed' }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
        reason: `github pull_request_review_comment github:review-comment:205 by octo-reviewer: pull request ${closedPr} is closed; follow-ups run on open pull requests only`,
        thread: closedFirst.id,
      },
      {
        body: reviewComment(206, 'Nice, thanks @agent'),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE,
        reason: 'github pull_request_review_comment github:review-comment:206 by octo-reviewer: not addressed to the agent (it does not start with @agent); recorded, it starts nothing',
        thread: first.id,
      },
      {
        // GitHub's "Redeliver" of the accepted comment: a new delivery id and message id, the same comment.
        body: reviewComment(101, '@agent rename it'),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE,
        reason: `github pull_request_review_comment github:review-comment:101 by octo-reviewer: already requested (follow-up job ${accepted.decisions[0]?.jobId}); recorded, it starts nothing more`,
        thread: first.id,
      },
      {
        body: githubReviewEvent('pull_request_review', { pullRequest: PR, id: 9, body: null }),
        classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE,
        reason: 'github pull_request_review github:review:9 by octo-reviewer: not addressed to the agent (it does not start with @agent); recorded, it starts nothing',
        thread: first.id,
      },
    ];
    for (const { body, classification, reason, thread } of cases) {
      const response = await submit(body);
      expect({ classification: response.classification, reason: response.rejectionReason, decisions: response.decisions }).toEqual({ classification, reason, decisions: [] });
      const delivery = await prisma.delivery.findUniqueOrThrow({ where: { id: response.deliveryId } });
      expect(delivery).toMatchObject({ body, rejectionReason: reason, threadJobId: thread });
    }
    // A follow-up's own delivery is linked through its request, not listed as a comment not acted on.
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: accepted.deliveryId } })).toMatchObject({ threadJobId: null });
    expect(await prisma.job.count()).toBe(jobsBefore);
    expect(await prisma.followUpRequest.count()).toBe(1);
  });

  it('answers a redelivered queue message with its first outcome, the follow-up decision included', async () => {
    await endedTicketJob('ENG-1');
    const body = reviewComment(101, '@agent rename it');
    const first = await client.submitMessage({ messageId: 'same-message', body, receivedAt });
    const again = await client.submitMessage({ messageId: 'same-message', body, receivedAt });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await prisma.followUpRequest.count()).toBe(1);
  });

  it('starts a follow-up on the ticket\'s branch for an @agent comment in Jira, and records the delivery against the ticket', async () => {
    const first = await endedTicketJob('ENG-3', 'https://github.com/acme/sample-app/pull/9');
    const response = await submit(jiraCommentCreated('ENG-3', { id: '10500', body: '@Agent please also handle the logout page' }));

    expect(response.decisions).toEqual([{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_FOLLOW_UP, key: 'ENG-3', repository: REPOSITORY }]);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId } })).toMatchObject({ followUpOfId: first.id, status: 'pending' });
    expect(await prisma.followUpRequest.findFirstOrThrow()).toMatchObject({ source: 'jira', externalId: 'jira:comment:10500', author: 'Sam Reporter', threadJobId: first.id });
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: response.deliveryId } })).toMatchObject({ classification: 'update', ticketId: first.ticketId });
  });

  it('refuses a Jira comment on a ticket whose job has not ended, and links it to that job', async () => {
    const decided = await submit(jiraIssue('ENG-4'));
    const response = await submit(jiraCommentCreated('ENG-4', { id: '10501', body: '@agent hurry up' }));
    expect(response).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, decisions: [] });
    expect(response.rejectionReason).toBe(
      `Jira comment_created jira:comment:10501 by Sam Reporter: ticket ENG-4's job ${decided.decisions[0]?.jobId} has not ended with a branch (status pending); a follow-up continues an ended job's branch`,
    );
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: response.deliveryId } })).toMatchObject({ threadJobId: decided.decisions[0]?.jobId });

    // Screened by the message alone (not addressed), it still finds the ticket's job; a ticket never seen, none.
    const chatter = await submit(jiraCommentCreated('ENG-4', { id: '10502', body: 'Any news?' }));
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: chatter.deliveryId } })).toMatchObject({ classification: 'update', threadJobId: decided.decisions[0]?.jobId });
    const unknown = await submit(jiraCommentCreated('ENG-404', { id: '10503', body: '@agent go' }));
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: unknown.deliveryId } })).toMatchObject({ classification: 'rejected', threadJobId: null });
  });

  it('keeps a refused comment redelivered by the queue as one delivery, linked once', async () => {
    const first = await endedTicketJob('ENG-1');
    const refused = reviewComment(401, '@agent push to main', { login: 'drive-by', association: 'NONE' });
    const once = await client.submitMessage({ messageId: 'refused-again', body: refused, receivedAt });
    const again = await client.submitMessage({ messageId: 'refused-again', body: refused, receivedAt });
    expect(again).toEqual({ ...once, duplicate: true });
    const unscreened = reviewComment(402, '@agent and this', { pullRequest: 'https://github.com/acme/elsewhere/pull/1' });
    await client.submitMessage({ messageId: 'unknown-again', body: unscreened, receivedAt });
    await client.submitMessage({ messageId: 'unknown-again', body: unscreened, receivedAt });
    expect(await prisma.delivery.findMany({ where: { sqsMessageId: { in: ['refused-again', 'unknown-again'] } }, orderBy: { sqsMessageId: 'asc' }, select: { threadJobId: true } })).toEqual([
      { threadJobId: first.id },
      { threadJobId: null },
    ]);
  });

  it('records jira:issue_updated of a known ticket against it and starts nothing; of a new ticket it is the first delivery', async () => {
    const first = await endedTicketJob('ENG-5');
    const updated = await submit(jiraIssueUpdated('ENG-5', 'Login fails after timeout (edited)'));
    expect(updated).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE, decisions: [] });
    expect(updated.rejectionReason).toBe(
      'jira:issue_updated of ENG-5: recorded against the ticket (its text is refreshed); an update starts nothing, only a comment addressed to the agent does',
    );
    expect(await prisma.delivery.findUniqueOrThrow({ where: { id: updated.deliveryId } })).toMatchObject({ classification: 'update', ticketId: first.ticketId });
    expect(await prisma.ticket.findUniqueOrThrow({ where: { key: 'ENG-5' } })).toMatchObject({ summary: 'Login fails after timeout (edited)' });
    expect(await prisma.job.count({ where: { key: 'ENG-5' } })).toBe(1);

    const fresh = await submit(jiraIssueUpdated('ENG-6'));
    expect(fresh).toMatchObject({
      classification: MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
      rejectionReason: '',
      decisions: [{ jobId: expect.any(String), kind: SpawnKind.SPAWN_KIND_TICKET, key: 'ENG-6', repository: REPOSITORY }],
    });
  });

  it('records pings and edits without acting on them', async () => {
    const ping = await submit(JSON.stringify({ githubWebhook: { deliveryId: 'ping-1', event: 'ping' }, payload: { zen: 'Favor focus over features.' } }));
    expect(ping).toMatchObject({ classification: MessageClassification.MESSAGE_CLASSIFICATION_UPDATE, rejectionReason: "github ping: GitHub's test delivery; recorded, it starts nothing", decisions: [] });
  });
});
