import { extractArchiveSafely, workerV1 } from '@agent-conductor/contracts';
import type { Job, PrismaClient } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const REPO = 'https://github.com/acme/sample-app.git';
const PULL = 'https://github.com/acme/sample-app/pull/42';
const BRANCH = 'worker/w-1/agent/abc-12-fix-order-total-rounding';
// Each test's job gets a claim of its own: the earlier tests' workers still hold theirs.
const uniqueClaim = (): string => `claim-${randomUUID()}`;

describe('launching a follow-up job', () => {
  let prisma: PrismaClient;
  let config: ConductorConfig;
  let app: INestApplication;
  let client: TestWorkerClient;
  let tokens: string;

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    tokens = await mkdtemp(join(tmpdir(), 'follow-up-launch-tokens-'));
    // The "worker" leaves its launch token where the test can handshake with it, as the real worker would.
    const worker = `${process.execPath} -e "require('fs').writeFileSync(require('path').join('${tokens}', process.env.WORKER_ID), process.env.WORKER_TOKEN); setTimeout(() => {}, 30000)"`;
    config = await testConfig({ workerCommand: worker, maxJobAttempts: 2 });
    app = await startConductorParts(config);
    client = new TestWorkerClient(config.grpcListenAddr);
  });

  afterAll(async () => {
    client.close();
    await app.close();
    await prisma.$disconnect();
  });

  /** The thread's first job, ended the way its Shutdown leaves it; `result` null: it recorded nothing. */
  async function firstJob(result: Record<string, string> | null): Promise<Job> {
    const job = await createPendingJob(prisma, { repository: REPO, key: 'ABC-12', branch: 'main' });
    return prisma.job.update({
      where: { id: job.id },
      data: { status: 'succeeded', attempts: 1, finishedAt: new Date(), ...(result ? { result, pullRequest: result['pullRequest'] ?? null } : {}) },
    });
  }

  /** A pending follow-up with its comments, the way the scheduler writes them. */
  async function followUpOf(first: Job, comments: Array<{ author: string; body: string; path?: string; line?: number; url?: string; at: string }>): Promise<Job> {
    const pending = await createPendingJob(prisma, { repository: REPO, key: first.key, branch: 'main', taskMarkdown: 'Follow-up: rendered at launch.\n', claimKey: uniqueClaim() });
    const job = await prisma.job.update({ where: { id: pending.id }, data: { followUpOfId: first.id } });
    for (const comment of comments) {
      await prisma.followUpRequest.create({
        data: {
          deliveryId: job.deliveryId,
          source: 'github',
          externalId: `github:review-comment:${randomUUID()}`,
          threadJobId: first.id,
          followUpJobId: job.id,
          author: comment.author,
          body: comment.body,
          path: comment.path ?? null,
          line: comment.line ?? null,
          url: comment.url ?? null,
          commentedAt: new Date(comment.at),
        },
      });
    }
    return job;
  }

  it('renders TASK.md from the batched comments at launch, stores it on the job, and the handshake names the branch and pull request', async () => {
    const first = await firstJob({ branch: BRANCH, pullRequest: PULL, title: 'ABC-12: Fix order total rounding' });
    const followUp = await followUpOf(first, [
      { author: 'alice', body: '@agent round once per order', path: 'src/orders.ts', line: 42, url: `${PULL}#discussion_r7`, at: '2026-12-04T10:05:00Z' },
      // A reviewer pasted a token: the agent gets it redacted.
      { author: 'bob', body: '@agent also test it; my token is ghp_0123456789abcdefghijABCDEFGHIJ012345', at: '2026-12-04T10:00:00Z' },
    ]);

    const outcome = await app.get(JobLaunchService).launch(followUp.id);
    if (outcome.status !== 'launched') throw new Error(`not launched: ${JSON.stringify(outcome)}`);

    const files = join(config.runDir, 'extracted');
    await extractArchiveSafely(join(config.runDir, 'tasks', `${outcome.workerId}.tar.gz`), files);
    const task = await readFile(join(files, 'TASK.md'), 'utf8');
    expect(task.split('\n')[0]).toBe('# Follow-up on ABC-12: Fix order total rounding');
    expect(task).toContain(`- **Pull request:** \`${PULL}\``);
    expect(task).toContain(`- **Branch:** \`${BRANCH}\``);
    expect(task).toContain('### Comment 1 by `bob`\n');
    expect(task).toContain('### Comment 2 by `alice` on `src/orders.ts:42`\n\n- Written: 2026-12-04T10:05:00.000Z\n- Link: `https://github.com/acme/sample-app/pull/42#discussion_r7`\n\n```text\n@agent round once per order\n```\n');
    expect(task).not.toContain('ghp_0123456789abcdefghij');
    expect(await readFile(join(files, 'AGENTS.md'), 'utf8')).toMatch(/^# Instructions for the coding agent: follow-up on a pull request/);
    expect((await prisma.job.findUniqueOrThrow({ where: { id: followUp.id } })).taskMarkdown).toBe(task);

    const token = await eventually('the worker to start', () => readFile(join(tokens, outcome.workerId), 'utf8').then((text) => text || undefined, () => undefined));
    const handshake = await client.handshake({ credentials: { workerId: outcome.workerId, token }, workerVersion: 'test', hostname: 'test' });
    expect(handshake.followUp).toEqual({ headBranch: BRANCH, pullRequest: PULL, resumeThreadId: '' });
    expect(handshake.jobKind).toBe(workerV1.JobKind.JOB_KIND_TICKET);
  });

  it('a first job of any other kind gets no follow-up in its handshake', async () => {
    const job = await createPendingJob(prisma, { repository: REPO, key: 'ABC-13', claimKey: uniqueClaim() });
    const outcome = await app.get(JobLaunchService).launch(job.id);
    if (outcome.status !== 'launched') throw new Error(`not launched: ${JSON.stringify(outcome)}`);
    const token = await eventually('the worker to start', () => readFile(join(tokens, outcome.workerId), 'utf8').then((text) => text || undefined, () => undefined));
    const handshake = await client.handshake({ credentials: { workerId: outcome.workerId, token }, workerVersion: 'test', hostname: 'test' });
    // Absent on the wire (the client decodes a missing message as null or undefined).
    expect(handshake.followUp ?? null).toBeNull();
    expect((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).taskMarkdown).toBe(job.taskMarkdown);
  });

  it('fails a follow-up whose first job recorded no branch, with the reason, and does not retry it', async () => {
    const first = await firstJob(null);
    const followUp = await followUpOf(first, [{ author: 'alice', body: '@agent fix it', at: '2026-12-04T10:00:00Z' }]);

    const outcome = await app.get(JobLaunchService).launch(followUp.id);

    expect(outcome).toMatchObject({ status: 'failed', next: 'failed' });
    const failed = await prisma.job.findUniqueOrThrow({ where: { id: followUp.id } });
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: `launch failed: follow-up job ${followUp.id} continues job ${first.id}, which recorded no branch and pull request to continue` });
  });
});
