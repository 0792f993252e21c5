import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient, type Job } from '@agent-conductor/db';
import { eventually, toolOutputs, userTexts, type ScriptedRequest, resetDatabase } from '@agent-conductor/testing';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AGENT_BRANCH,
  FIRST_COMMIT,
  FOLLOW_UP_MENTION,
  pullRequestUrl,
  REVIEW_REQUEST,
  REPOSITORY,
  reviewCommentPayload,
  SECOND_COMMIT,
  startFollowUpStack,
  SYSTEM_LOGIN,
  WEBHOOK_SECRET,
  type FollowUpStack,
} from './support/follow-up-stack';

/** Each probe queries Postgres; the machine is shared, so not too often. */
const POLL_MS = 250;
/** A step's waits (a job of several codex turns, then Jira or the scheduler) add up past jest's default on a loaded machine. */
const STEP_TIMEOUT_MS = 420_000;

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures', name), 'utf8');

function commitSubjects(remote: string, branch: string): string[] {
  return execFileSync('git', ['log', '--format=%s', `main..${branch}`], { cwd: remote, encoding: 'utf8' }).trim().split('\n').filter((line) => line !== '');
}

describe('the follow-up loop, end to end through real processes (issue 11)', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let loop: FollowUpStack;
  /** The ticket's job, once step 1 has run. */
  let firstJob: Job | undefined;

  const ended = (job: Job | null): Job | undefined => (job && ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : undefined);
  /** The delivery rows the scheduler stored for one GitHub delivery (the envelope carries its id). */
  const deliveriesOf = (deliveryId: string) => prisma.delivery.findMany({ where: { body: { contains: deliveryId } } });
  const isFollowUpRequest = (request: ScriptedRequest): boolean => userTexts(request).some((text) => text.includes(REVIEW_REQUEST));

  beforeAll(async () => {
    // The e2e files share one database: a ticket key or an account's open incident left by another file would be
    // answered as a duplicate or joined instead of decided afresh.
    await resetDatabase(prisma);
    loop = await startFollowUpStack(databaseUrl, { scheduler: { FOLLOW_UP_MENTION, FOLLOW_UP_SYSTEM_LOGINS: SYSTEM_LOGIN } });
    loop.jira.addIssue('ENG-123');
  });

  afterAll(async () => {
    await loop?.stop();
    await prisma.$disconnect();
  });

  it('1. a ticket becomes a pull request opened by codex, and the Jira issue gets a comment with its link', async () => {
    await loop.stack.sqs.send(new SendMessageCommand({ QueueUrl: loop.stack.queueUrl, MessageBody: fixture('jira-issue.json') }));

    const job = await eventually(
      'the ENG-123 job to finish',
      async () => {
        const found = await prisma.job.findFirst({ where: { key: 'ENG-123' } });
        return found && (found.status === 'succeeded' || found.status === 'failed') ? found : undefined;
      },
      240_000,
      POLL_MS,
    );
    expect({ status: job.status, error: job.error }).toEqual({ status: 'succeeded', error: null });

    firstJob = job;
    const result = job.result as { branch?: string; pullRequest?: string } | null;
    expect(result?.branch).toMatch(new RegExp(`/${AGENT_BRANCH}$`));
    expect(commitSubjects(loop.remote, result?.branch ?? 'missing')).toEqual([FIRST_COMMIT]);
    expect(loop.pulls).toHaveLength(1);
    const pull = loop.pulls[0];
    expect(result?.pullRequest).toBe(pull && pullRequestUrl(pull));
    expect(pull).toMatchObject({ headRef: result?.branch, state: 'open', title: 'ENG-123: Login fails after session timeout' });

    // The model was reached through the worker's proxy with the real key, and codex did the work in turns.
    expect(loop.model.requests.length).toBeGreaterThanOrEqual(4);

    const comments = await eventually('the Jira comment on ENG-123', async () => {
      const posted = loop.jira.comments('ENG-123');
      return posted.length > 0 ? posted : undefined;
    }, 60_000, POLL_MS);
    expect(comments).toHaveLength(1);
    expect(JSON.stringify(comments[0]?.body)).toContain(result?.pullRequest ?? 'missing');
    // The comment is on Jira a moment before the conductor records its id.
    const report = await eventually('the Jira report to record its comment', async () => {
      const row = await prisma.jiraReport.findFirst({ where: { jobId: job.id } });
      return row?.commentId ? row : undefined;
    }, 60_000, POLL_MS);
    expect(report).toMatchObject({ issueKey: 'ENG-123', outcome: 'succeeded', commentId: comments[0]?.id });
  }, STEP_TIMEOUT_MS);

  it('2. a signed review comment with the mention leads to a follow-up that resumes the session, adds a commit and replies', async () => {
    if (!firstJob) throw new Error('step 1 did not produce the ticket job');
    const branch = (firstJob.result as { branch?: string } | null)?.branch ?? 'missing';
    const pull = loop.pulls.find((candidate) => pullRequestUrl(candidate) === (firstJob?.result as { pullRequest?: string } | null)?.pullRequest);
    if (!pull) throw new Error('step 1 did not open a pull request');
    const firstJobRequests = loop.model.requests.length;

    const payload = reviewCommentPayload(pull, { id: 9001, body: `${FOLLOW_UP_MENTION} ${REVIEW_REQUEST}`, path: 'SESSION.md', line: 1 });
    const sent = await loop.github.sendWebhook(loop.webhookUrl, { event: 'pull_request_review_comment', payload, secret: WEBHOOK_SECRET });
    expect({ status: sent.status, body: sent.body }).toMatchObject({ status: 202, body: expect.stringContaining('queued') });
    // GitHub's "Redeliver": the same delivery id again is answered as a duplicate and never queued a second time.
    const replayed = await loop.github.sendWebhook(loop.webhookUrl, { event: 'pull_request_review_comment', payload, secret: WEBHOOK_SECRET, deliveryId: sent.deliveryId });
    expect({ status: replayed.status, body: replayed.body }).toMatchObject({ status: 202, body: expect.stringContaining('duplicate') });

    const followUp = await eventually(
      'the follow-up job to finish',
      async () => ended(await prisma.job.findFirst({ where: { followUpOfId: firstJob?.id } })),
      240_000,
      POLL_MS,
    );
    expect({ status: followUp.status, error: followUp.error }).toEqual({ status: 'succeeded', error: null });
    expect(followUp.pullRequest).toBe(pullRequestUrl(pull));
    expect(await prisma.job.count({ where: { followUpOfId: firstJob.id } })).toBe(1);
    expect(await prisma.followUpRequest.count({ where: { threadJobId: firstJob.id } })).toBe(1);
    expect(await deliveriesOf(sent.deliveryId)).toHaveLength(1);

    // The same branch, the first commit kept and the second on top; no second pull request.
    const followUpResult = followUp.result as { branch?: string; pullRequest?: string } | null;
    expect(followUpResult?.branch).toBe(branch);
    expect(commitSubjects(loop.remote, branch)).toEqual([SECOND_COMMIT, FIRST_COMMIT]);
    expect(loop.pulls).toHaveLength(1);

    // One reply on the pull request, carrying the follow-up job's marker and its report.
    expect(pull.comments).toHaveLength(1);
    expect(pull.comments[0]?.body).toContain(`<!-- agent-conductor:follow-up job=${followUp.id} -->`);
    expect(pull.comments[0]?.body).toContain('The stale session cookie is now cleared on redirect.');

    // Resumed, not restarted: codex sent the first job's thread back, the output of its first commit included.
    const followUpRequests = loop.model.requests.slice(firstJobRequests).filter(isFollowUpRequest);
    expect(followUpRequests.length).toBeGreaterThanOrEqual(2);
    expect(toolOutputs(followUpRequests[0] as ScriptedRequest).join('\n')).toContain(FIRST_COMMIT);
    expect(followUpRequests[0]?.headers['thread-id']).toBe(loop.model.requests[0]?.headers['thread-id']);
    expect(followUp.contextReused).toBe(true);
    // What resuming costs on the wire: the first request of the follow-up carries the whole earlier thread.
    const first = followUpRequests[0] as ScriptedRequest;
    process.stdout.write(`follow-up: first model request ${Buffer.byteLength(first.text)} bytes, ${toolOutputs(first).length} earlier tool outputs; usage as the scripted model reported it ${JSON.stringify(followUp.usage)}\n`);
  }, STEP_TIMEOUT_MS);

  it('3. refuses bad input through the same stack, each with its recorded reason and no job', async () => {
    if (!firstJob) throw new Error('step 1 did not produce the ticket job');
    const pull = loop.pulls.find((candidate) => pullRequestUrl(candidate) === (firstJob?.result as { pullRequest?: string } | null)?.pullRequest);
    if (!pull) throw new Error('step 1 did not open a pull request');
    const jobsBefore = await prisma.job.count();
    const ask = `${FOLLOW_UP_MENTION} ${REVIEW_REQUEST}`;

    const forged = await loop.github.sendWebhook(loop.webhookUrl, {
      event: 'pull_request_review_comment',
      payload: reviewCommentPayload(pull, { id: 9101, body: ask }),
      secret: 'not-the-webhook-secret-at-all',
    });
    expect(forged.status).toBe(401);

    const bySystem = await loop.github.sendWebhook(loop.webhookUrl, {
      event: 'pull_request_review_comment',
      payload: reviewCommentPayload(pull, { id: 9102, body: ask, login: SYSTEM_LOGIN }),
      secret: WEBHOOK_SECRET,
    });
    const foreignPull = loop.github.trackPullRequest(REPOSITORY, { number: 90, headRef: 'people/own-branch' });
    const onForeignPull = await loop.github.sendWebhook(loop.webhookUrl, {
      event: 'pull_request_review_comment',
      payload: reviewCommentPayload(foreignPull, { id: 9103, body: ask }),
      secret: WEBHOOK_SECRET,
    });
    pull.state = 'closed';
    const onClosedPull = await loop.github.sendWebhook(loop.webhookUrl, {
      event: 'pull_request_review_comment',
      payload: reviewCommentPayload(pull, { id: 9104, body: ask }),
      secret: WEBHOOK_SECRET,
    });
    expect([bySystem, onForeignPull, onClosedPull].map((answer) => answer.status)).toEqual([202, 202, 202]);

    const refusals: Array<[string, RegExp]> = [
      [bySystem.deliveryId, /written by Agent Conductor itself/],
      [onForeignPull.deliveryId, /was not opened by Agent Conductor/],
      [onClosedPull.deliveryId, /is closed/],
    ];
    for (const [deliveryId, reason] of refusals) {
      const rows = await eventually(`the scheduler to decide delivery ${deliveryId}`, async () => {
        const found = await deliveriesOf(deliveryId);
        return found.length > 0 ? found : undefined;
      }, 60_000, POLL_MS);
      expect(rows.map((row) => ({ classification: row.classification, reason: row.rejectionReason }))).toEqual([{ classification: 'rejected', reason: expect.stringMatching(reason) }]);
    }
    // The forged delivery never reached the queue, so the scheduler never stored it.
    expect(await deliveriesOf(forged.deliveryId)).toEqual([]);
    expect(await prisma.job.count()).toBe(jobsBefore);
    expect(await prisma.followUpRequest.count()).toBe(1);
  }, STEP_TIMEOUT_MS);
});
