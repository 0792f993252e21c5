import { workerV1 } from '@agent-conductor/contracts';
import { WorkerRepository, type Prisma, type PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

const ORDERS = { url: 'https://github.com/acme/orders.git', branch: 'main', name: 'orders', sparsePaths: ['src'] };
const BILLING = { url: 'https://github.com/acme/billing.git', branch: 'release', name: 'billing', sparsePaths: [] };

describe('jobs over several repositories (docs/multi-repository.md)', () => {
  let config: ConductorConfig;
  let app: INestApplication;
  let prisma: PrismaClient;
  let client: TestWorkerClient;

  /** A job as the scheduler writes one over several repositories: the first is also `repository`/`branch`. */
  async function multiRepositoryJob(repositories: unknown): Promise<string> {
    // A claim of its own: an earlier test's job may still hold the repository's, and admission would keep this one waiting.
    const job = await createPendingJob(prisma, { kind: 'incident', repository: ORDERS.url, branch: ORDERS.branch, claimKey: randomUUID(), repositories: repositories as Prisma.InputJsonValue });
    return job.id;
  }

  async function handshake(jobId: string): Promise<{ response: workerV1.HandshakeResponse; credentials: workerV1.WorkerCredentials }> {
    await prisma.job.update({ where: { id: jobId }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: '# Incident\n', agentsMarkdown: '# Agents\n' });
    const response = await client.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test' });
    return { response, credentials: { workerId: worker.id, token: response.sessionToken } };
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    config = await testConfig({ workerCommand: `${process.execPath} -e "process.exit(0)"`, maxJobAttempts: 3 });
    app = await startConductorParts(config);
    client = new TestWorkerClient(config.grpcListenAddr);
  });

  afterAll(async () => {
    client.close();
    await app.close();
    await prisma.$disconnect();
  });

  it('hands out every repository in order, each with its own base branch and sparse paths', async () => {
    const { response } = await handshake(await multiRepositoryJob([ORDERS, BILLING]));
    expect(response.repositories).toEqual([
      { cloneUrl: ORDERS.url, defaultBranch: 'main', sparsePaths: ['src'], name: 'orders' },
      { cloneUrl: BILLING.url, defaultBranch: 'release', sparsePaths: [], name: 'billing' },
    ]);
    // The first repeats the job's own repository, which a worker without the multi-repository path still reads.
    expect(response.repository?.cloneUrl).toBe(ORDERS.url);
  });

  it('hands out no repositories for a one-repository job', async () => {
    const job = await createPendingJob(prisma);
    expect((await handshake(job.id)).response.repositories).toEqual([]);
  });

  it('refuses the handshake of a job whose repositories a worker cannot use, naming the problem', async () => {
    const jobId = await multiRepositoryJob([ORDERS, { ...BILLING, name: 'orders' }]);
    const error = await handshake(jobId).then(
      () => undefined,
      (caught: unknown) => caught as ServiceError,
    );
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
    expect(error?.details).toContain('repositories[1].name: "orders" is already the name of repositories[0]');
  });

  it('fails the launch of such a job for good, with the problem, instead of retrying it', async () => {
    const jobId = await multiRepositoryJob([ORDERS, { ...BILLING, name: '../escape' }]);
    const outcome = await app.get(JobLaunchService).launch(jobId);
    expect(outcome.status).toBe('failed');
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(job.error).toContain('repositories[1].name: must use only letters, digits');
  });

  it("renders AGENTS.md with the job's repository directories", async () => {
    const jobId = await multiRepositoryJob([ORDERS, BILLING]);
    const outcome = await app.get(JobLaunchService).launch(jobId);
    if (outcome.status !== 'launched') throw new Error(`not launched: ${JSON.stringify(outcome)}`);
    const extracted = await mkdtemp(join(tmpdir(), 'multi-repository-spec-'));
    await tar.x({ file: app.get(TaskArchiveStore).pathFor(outcome.workerId), cwd: extracted });
    const agents = await readFile(join(extracted, 'AGENTS.md'), 'utf8');
    expect(agents).toContain('- `repo/orders/` (the primary repository)\n- `repo/billing/`');
    expect(agents).toContain('agent-meta/branches.json');
  });

  it('hands a follow-up the one repository whose pull request it continues, and no repositories', async () => {
    // The first job changed billing only: its pull request, the one the follow-up continues, is billing's.
    const pull = 'https://github.com/acme/billing/pull/7';
    const firstId = await multiRepositoryJob([ORDERS, BILLING]);
    await prisma.job.update({
      where: { id: firstId },
      data: { status: 'succeeded', attempts: 1, finishedAt: new Date(), pullRequest: pull, result: { branch: 'worker/w/fix', pullRequest: pull, title: 'Fix', changes: [{ name: 'billing', branch: 'worker/w/fix', pullRequest: pull }] } },
    });
    // As the follow-up intake writes it: the first job's route, repositories included.
    const followUpId = await multiRepositoryJob([ORDERS, BILLING]);
    const followUpJob = await prisma.job.update({ where: { id: followUpId }, data: { followUpOfId: firstId } });
    await prisma.followUpRequest.create({
      data: {
        deliveryId: followUpJob.deliveryId,
        source: 'github',
        externalId: `github:review-comment:${randomUUID()}`,
        threadJobId: firstId,
        followUpJobId: followUpId,
        author: 'alice',
        body: '@agent also handle refunds',
        commentedAt: new Date(),
      },
    });

    const { response } = await handshake(followUpId);
    expect(response.followUp).toMatchObject({ headBranch: 'worker/w/fix', pullRequest: pull });
    expect(response.repository).toEqual({ cloneUrl: BILLING.url, defaultBranch: 'release', sparsePaths: [], name: 'acme/billing' });
    expect(response.repositories).toEqual([]);
  });

  it('stores the changed repositories of the Shutdown in the result, bounded', async () => {
    const { credentials, response } = await handshake(await multiRepositoryJob([ORDERS, BILLING]));
    const changes = [
      { name: 'orders', branch: 'worker/w/fix', pullRequest: 'https://github.com/acme/orders/pull/1' },
      { name: 'billing', branch: 'worker/w/fix', pullRequest: `https://github.com/acme/billing/pull/2${'0'.repeat(5_000)}` },
      ...Array.from({ length: 12 }, (_, index) => ({ name: `extra-${index}`, branch: 'b', pullRequest: 'p' })),
    ];
    await client.shutdown({
      credentials,
      outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
      result: { branch: 'worker/w/fix', pullRequest: changes[0]?.pullRequest ?? '', report: '', title: 'Fix', summary: '', agentThreadId: '', changes },
      error: '',
    });
    const job = await prisma.job.findUniqueOrThrow({ where: { id: response.jobId } });
    const stored = (job.result as { changes: { name: string; pullRequest: string }[] }).changes;
    expect(stored).toHaveLength(10);
    expect(stored[0]).toEqual(changes[0]);
    expect(stored[1]?.name).toBe('billing');
    expect(stored[1]?.pullRequest).toHaveLength(1_000);
  });
});
