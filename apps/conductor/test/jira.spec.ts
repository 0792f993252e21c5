import { workerV1 } from '@agent-conductor/contracts';
import { JiraReportRepository, WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { FakeJira, freePort, resetDatabase } from '@agent-conductor/testing';
import { Logger, type INestApplication } from '@nestjs/common';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig, JiraConfig } from '../src/config/env.validators';
import { JiraReportDeliveryService } from '../src/jira/jira-report-delivery.service';
import { JiraReportRecorder } from '../src/jira/jira-report.recorder';
import { AttemptService } from '../src/launch/attempts.service';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const API_TOKEN = 'jira-api-token-never-shown-0123456789';
const EMAIL = 'agent@example.com';
const BASIC = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`;
const GITHUB_TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';

describe('reporting ticket jobs back to Jira', () => {
  let jira: FakeJira;
  let config: ConductorConfig;
  let app: INestApplication;
  let prisma: PrismaClient;
  let client: TestWorkerClient;
  const logged: string[] = [];

  function jiraConfig(overrides: Partial<JiraConfig> = {}): JiraConfig {
    return {
      baseUrl: jira.url,
      credentials: { kind: 'basic', email: EMAIL, apiToken: API_TOKEN },
      timeoutMs: 2000,
      maxTries: 3,
      retryBaseMs: 10,
      retryMaxMs: 20,
      // Passes are driven by the tests; the timer must not race them.
      pollIntervalMs: 3_600_000,
      ...overrides,
    };
  }

  /** A ticket job whose first attempt's worker has handshaken, as a launch leaves it. */
  async function runningTicketJob(key: string, jiraTransition: string | null = null): Promise<{ jobId: string; workerId: string; credentials: workerV1.WorkerCredentials }> {
    jira.addIssue(key, { transitions: [{ id: '31', name: 'In Review', to: 'In Review' }] });
    const job = await createPendingJob(prisma, { key });
    // As the scheduler stores the route's `"jira": { "transition": … }`.
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1, jiraTransition } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    const { sessionToken } = await client.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test-host' });
    return { jobId: job.id, workerId: worker.id, credentials: { workerId: worker.id, token: sessionToken } };
  }

  async function succeed(key: string, jiraTransition: string | null = null): Promise<string> {
    const worker = await runningTicketJob(key, jiraTransition);
    await client.shutdown({
      credentials: worker.credentials,
      outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
      result: {
        branch: `worker/${worker.workerId}/main`,
        pullRequest: `https://github.com/acme/orders-api/pull/7`,
        report: '',
        title: 'Fix the orders endpoint',
        summary: `Fixed the 500 on /orders.\nThe agent printed GITHUB_TOKEN=${GITHUB_TOKEN} while testing.`,
        agentThreadId: '',
        changes: [],
      },
      error: '',
      usage: undefined,
    });
    return worker.jobId;
  }

  function commentText(key: string): string[] {
    return jira.comments(key).map((comment) => JSON.stringify(comment.body));
  }

  async function makeDue(jobId: string): Promise<void> {
    await prisma.jiraReport.updateMany({ where: { jobId }, data: { nextTryAt: new Date(Date.now() - 1000) } });
  }

  function delivery(): JiraReportDeliveryService {
    return app.get(JiraReportDeliveryService);
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    jira = await new FakeJira(BASIC).start();
    config = await testConfig({ jira: jiraConfig() });
    app = await startConductorParts(config);
    client = new TestWorkerClient(config.grpcListenAddr);
    const record = (...args: unknown[]): void => {
      logged.push(args.map(String).join(' '));
    };
    jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(record);
  });

  afterAll(async () => {
    client.close();
    await app.close();
    await jira.stop();
    await prisma.$disconnect();
  });

  it('comments once on a succeeded job: the pull request and the redacted summary, with the basic credentials', async () => {
    const jobId = await succeed('SHOP-1');
    expect(await delivery().deliver()).toBe(1);
    const [comment] = commentText('SHOP-1');
    expect(commentText('SHOP-1')).toHaveLength(1);
    expect(comment).toContain('Pull request: https://github.com/acme/orders-api/pull/7');
    expect(comment).toContain('Fixed the 500 on /orders.');
    expect(comment).toContain(`agent-conductor report: job ${jobId} attempt 1`);
    expect(comment).not.toContain(GITHUB_TOKEN);
    expect(jira.callsOf('POST comment').every((request) => request.authorization === BASIC)).toBe(true);
    const [row] = await app.get(JiraReportRepository).findByJob(jobId);
    expect(row).toMatchObject({ outcome: 'succeeded', tries: 1, commentId: jira.comments('SHOP-1')[0]?.id });
    expect(row?.postedAt).toBeInstanceOf(Date);

    // Another pass, and the same end recorded again (a repeated notice): still one comment.
    await makeDue(jobId);
    await prisma.$transaction((tx) => app.get(JiraReportRecorder).jobEnded(jobId, 1, tx));
    expect(await delivery().deliver()).toBe(0);
    expect(commentText('SHOP-1')).toHaveLength(1);
    expect(await prisma.jiraReport.count({ where: { jobId } })).toBe(1);
  });

  it('comments once on a failed job: the reason and the failure issue', async () => {
    const worker = await runningTicketJob('SHOP-2');
    await client.shutdown({
      credentials: worker.credentials,
      outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED,
      result: { branch: 'b', pullRequest: '', report: 'https://github.com/acme/orders-api/issues/9', title: '[agent-failed] Fix', summary: '', agentThreadId: '', changes: [] },
      error: `tests kept failing; password=${API_TOKEN}`,
      usage: undefined,
    });
    expect(await delivery().deliver()).toBe(1);
    expect(commentText('SHOP-2')).toHaveLength(1);
    const [comment] = commentText('SHOP-2');
    expect(comment).toContain('could not finish SHOP-2');
    expect(comment).toContain('Reason: tests kept failing');
    expect(comment).toContain('Failure report: https://github.com/acme/orders-api/issues/9');
    expect(comment).not.toContain(API_TOKEN);
  });

  it('comments when the conductor gives up on the last attempt after an infrastructure failure', async () => {
    const worker = await runningTicketJob('SHOP-3');
    const outcome = await app.get(AttemptService).endAttempt({ id: worker.workerId, jobId: worker.jobId, attempt: 1 }, 'the worker exited with code 137', {
      retryable: false,
      event: 'exited',
    });
    expect(outcome).toBe('failed');
    expect(await delivery().deliver()).toBe(1);
    expect(commentText('SHOP-3')).toEqual([expect.stringContaining('Reason: the worker exited with code 137')]);
  });

  it("moves a succeeded job's issue through the route's transition, by name, once, even when the comment is retried", async () => {
    jira.fail('POST comment', 1, { kind: 'status', status: 503 });
    const jobId = await succeed('SHOP-7', 'in review');
    expect(jira.status('SHOP-7')).toBe('To Do');
    expect(await delivery().deliver()).toBe(0);
    expect(jira.status('SHOP-7')).toBe('In Review');
    await makeDue(jobId);
    expect(await delivery().deliver()).toBe(1);
    const transitionsPosted = jira.callsOf('POST transitions').filter((request) => request.path.includes('SHOP-7'));
    expect(transitionsPosted.map((request) => request.body)).toEqual([{ transition: { id: '31' } }]);
    expect(commentText('SHOP-7')).toHaveLength(1);
  });

  it('leaves a failed job\'s issue where it is, though its route names a transition', async () => {
    const worker = await runningTicketJob('SHOP-8', 'In Review');
    await client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: 'no tests', usage: undefined });
    expect(await delivery().deliver()).toBe(1);
    expect(jira.status('SHOP-8')).toBe('To Do');
    expect(jira.callsOf('GET transitions').filter((request) => request.path.includes('SHOP-8'))).toHaveLength(0);
    expect(commentText('SHOP-8')).toHaveLength(1);
  });

  it('queues nothing for an incident job', async () => {
    const job = await createPendingJob(prisma, { kind: 'incident', key: '123456789012' });
    await prisma.job.update({ where: { id: job.id }, data: { status: 'failed', error: 'x' } });
    await prisma.$transaction((tx) => app.get(JiraReportRecorder).jobEnded(job.id, 1, tx));
    expect(await prisma.jiraReport.count({ where: { jobId: job.id } })).toBe(0);
  });

  it('retries a 500 with backoff and posts one comment', async () => {
    jira.fail('POST comment', 1, { kind: 'status', status: 500 });
    const jobId = await succeed('SHOP-4');
    expect(await delivery().deliver()).toBe(0);
    const [failed] = await app.get(JiraReportRepository).findByJob(jobId);
    expect(failed).toMatchObject({ tries: 1, commentId: null, gaveUpAt: null, lastError: expect.stringContaining('HTTP 500') });
    await makeDue(jobId);
    expect(await delivery().deliver()).toBe(1);
    expect(jira.callsOf('POST comment').filter((request) => request.path.includes('SHOP-4'))).toHaveLength(2);
    expect(commentText('SHOP-4')).toHaveLength(1);
    expect((await app.get(JiraReportRepository).findByJob(jobId))[0]).toMatchObject({ tries: 2, commentId: jira.comments('SHOP-4')[0]?.id, lastError: null });
  });

  it('does not post twice when Jira stored the comment but its answer was lost (a timeout): it finds the marker', async () => {
    jira.fail('POST comment', 1, { kind: 'store-then-hang' });
    const jobId = await succeed('SHOP-5');
    expect(await delivery().deliver()).toBe(0);
    expect(commentText('SHOP-5')).toHaveLength(1);
    const [timedOut] = await app.get(JiraReportRepository).findByJob(jobId);
    expect(timedOut).toMatchObject({ commentId: null, lastError: expect.stringContaining('no answer within 2000 ms') });
    await makeDue(jobId);
    expect(await delivery().deliver()).toBe(1);
    expect(commentText('SHOP-5')).toHaveLength(1);
    expect(jira.callsOf('POST comment').filter((request) => request.path.includes('SHOP-5'))).toHaveLength(1);
    expect((await app.get(JiraReportRepository).findByJob(jobId))[0]?.commentId).toBe(jira.comments('SHOP-5')[0]?.id);
  });

  it('never fails the job when Jira is down, gives up after JIRA_MAX_TRIES, and keeps the token out of logs and rows', async () => {
    const down = await testConfig({ jira: jiraConfig({ baseUrl: `http://127.0.0.1:${await freePort()}`, maxTries: 2 }) });
    const downApp = await startConductorParts(down);
    const downClient = new TestWorkerClient(down.grpcListenAddr);
    try {
      const jobId = await (async () => {
        const key = 'SHOP-6';
        const job = await createPendingJob(prisma, { key });
        await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
        const token = newWorkerToken();
        const worker = await downApp.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
        await downApp.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
        const { sessionToken } = await downClient.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'h' });
        await downClient.shutdown({
          credentials: { workerId: worker.id, token: sessionToken },
          outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
          result: { branch: 'b', pullRequest: 'https://github.com/acme/orders-api/pull/8', report: '', title: 't', summary: '', agentThreadId: '', changes: [] },
          error: '',
          usage: undefined,
        });
        return job.id;
      })();
      const deliveryDown = downApp.get(JiraReportDeliveryService);
      expect(await deliveryDown.deliver()).toBe(0);
      await makeDue(jobId);
      expect(await deliveryDown.deliver()).toBe(0);
      const [row] = await downApp.get(JiraReportRepository).findByJob(jobId);
      expect(row).toMatchObject({ tries: 2, commentId: null });
      expect(row?.gaveUpAt).toBeInstanceOf(Date);
      await makeDue(jobId);
      expect(await deliveryDown.deliver()).toBe(0);
      expect((await downApp.get(JiraReportRepository).findByJob(jobId))[0]?.tries).toBe(2);
      expect(await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'succeeded', error: null });
      expect(logged.some((line) => line.includes('gave up reporting to Jira SHOP-6'))).toBe(true);
      const everything = [...logged, ...(await prisma.jiraReport.findMany()).map((report) => JSON.stringify(report))].join('\n');
      expect(everything).not.toContain(API_TOKEN);
      expect(everything).not.toContain(BASIC.slice('Basic '.length));
      expect(everything).not.toContain(GITHUB_TOKEN);
    } finally {
      downClient.close();
      await downApp.close();
    }
  });
});
