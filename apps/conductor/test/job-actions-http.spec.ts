import type { Job, PrismaClient } from '@agent-conductor/db';
import { freePort, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { bootstrapConductor } from '../src/bootstrap';
import type { ConductorConfig } from '../src/config/env.validators';
import { baseUrl, FakeAlbKeys, loginCookie, schemaProblems, TEST_ALB_ARN, TEST_CONSOLE_TOKEN, type DocumentedSchema } from './support/console';
import { createClaimedJob, createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { startLocalIntakeQueue, type LocalIntakeQueue } from './support/local-queue';

const REPOSITORY = 'https://github.com/acme/held.git';
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined, verbose: () => undefined };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('operator actions over HTTP (the whole conductor)', () => {
  let prisma: PrismaClient;
  let queue: LocalIntakeQueue;
  let scheduler: Server;
  let schedulerAddr: string;

  async function startConductor(consoleAuth: ConductorConfig['consoleAuth']): Promise<INestApplication> {
    return bootstrapConductor(
      await testConfig({ sqsQueueUrl: queue.queueUrl, sqsEndpoint: queue.endpoint, schedulerGrpcAddr: schedulerAddr, orphanCheckIntervalMs: 3_600_000, consoleAuth }),
      { logger: silent },
    );
  }

  /** A job running on REPOSITORY: it holds the claim, so what admission is asked to start there stays pending. */
  async function claimHolder(): Promise<Job> {
    const holder = await createClaimedJob(prisma, { repository: REPOSITORY });
    return prisma.job.update({ where: { id: holder.id }, data: { status: 'running' } });
  }

  beforeAll(async () => {
    prisma = testPrisma();
    queue = await startLocalIntakeQueue('job-actions-http-spec');
    const port = await freePort();
    // Reachable is all the conductor checks before a message arrives, and none will.
    scheduler = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => scheduler.listen(port, '127.0.0.1', () => resolve()));
    schedulerAddr = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await queue?.stop();
    await new Promise<void>((resolve) => scheduler?.close(() => resolve()));
    await prisma.$disconnect();
  });

  describe('token mode', () => {
    let app: INestApplication;
    let base: string;
    let paths: Record<string, { post?: { responses: Record<string, { content?: Record<string, { schema?: DocumentedSchema }> }> } }>;

    /** Every 200 answer is checked against the OpenAPI document, so /api/docs says what the actions return. */
    function checkDocumented(path: string, body: unknown): void {
      const action = /\/(cancel|rerun|approve|reject)$/.exec(path)?.[1] ?? '';
      const schema = paths[`/api/v1/jobs/{id}/${action}`]?.post?.responses['200']?.content?.['application/json']?.schema;
      expect({ path, documented: schema !== undefined }).toEqual({ path, documented: true });
      expect({ path, problems: schema ? schemaProblems(body, schema) : [] }).toEqual({ path, problems: [] });
    }

    async function post(path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` }): Promise<Answer> {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const answer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
      if (answer.status === 200) checkDocumented(path, answer.body);
      return answer;
    }

    beforeAll(async () => {
      app = await startConductor({ mode: 'token', token: TEST_CONSOLE_TOKEN, sessionTtlMs: 3_600_000 });
      base = baseUrl(app);
      const document = await fetch(`${base}/api/docs/openapi.json`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
      paths = ((await document.json()) as { paths: typeof paths }).paths;
    });
    afterAll(() => app?.close());
    beforeEach(() => resetDatabase(prisma));

    it('cancels a waiting job (200 with the job), records the caller, and answers a second cancel the same', async () => {
      const job = await createPendingJob(prisma, { repository: REPOSITORY });
      const first = await post(`/api/v1/jobs/${job.id}/cancel`, { reason: 'filed twice' });
      expect(first).toEqual({ status: 200, body: { job: expect.objectContaining({ id: job.id, status: 'cancelled', approval: 'none', rerunOf: null }) } });
      const second = await post(`/api/v1/jobs/${job.id}/cancel`);
      expect(second).toEqual({ status: 200, body: { job: expect.objectContaining({ id: job.id, status: 'cancelled' }) } });

      const detail = await fetch(`${base}/api/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
      expect(await detail.json()).toMatchObject({
        status: 'cancelled',
        actions: [{ action: 'cancel', actor: 'token', at: expect.any(String), detail: { step: 'cancel-waiting', reason: 'filed twice' } }],
      });
    });

    it('asks a running job to stop: 200 with the job still running and the stop request stamped', async () => {
      const running = await claimHolder();
      const answer = await post(`/api/v1/jobs/${running.id}/cancel`);
      expect(answer).toEqual({ status: 200, body: { job: expect.objectContaining({ status: 'running', cancelRequestedAt: expect.any(String) }) } });
    });

    it('answers 409 with a message when the job has already ended, and 404 for an unknown or malformed id', async () => {
      const job = await createPendingJob(prisma);
      await prisma.job.update({ where: { id: job.id }, data: { status: 'succeeded', finishedAt: new Date() } });
      expect(await post(`/api/v1/jobs/${job.id}/cancel`)).toEqual({
        status: 409,
        body: expect.objectContaining({ message: `job ${job.id} has already ended (succeeded); it cannot be cancelled` }),
      });
      expect(await post(`/api/v1/jobs/${job.id}/approve`)).toMatchObject({ status: 409 });
      for (const action of ['cancel', 'rerun', 'approve', 'reject']) {
        expect(await post(`/api/v1/jobs/${randomUUID()}/${action}`)).toMatchObject({ status: 404 });
        expect(await post(`/api/v1/jobs/ABC-123/${action}`)).toMatchObject({ status: 404 });
      }
      expect(await prisma.jobAction.count()).toBe(0);
    });

    it('re-runs an ended job: 200 with the job and the new one, linked both ways, waiting in admission like any other', async () => {
      await claimHolder();
      const failed = await createPendingJob(prisma, { repository: REPOSITORY, key: 'OPS-7' });
      await prisma.job.update({ where: { id: failed.id }, data: { status: 'failed', attempts: 3, finishedAt: new Date() } });
      const answer = await post(`/api/v1/jobs/${failed.id}/rerun`, { reason: 'the flake is fixed' });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        job: expect.objectContaining({ id: failed.id, status: 'failed' }),
        rerun: expect.objectContaining({ key: 'OPS-7', status: 'pending', attempts: 0, rerunOf: failed.id }),
      });
      const rerun = answer.body['rerun'] as { id: string };
      const detail = (await (await fetch(`${base}/api/v1/jobs/${failed.id}`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } })).json()) as Record<string, unknown>;
      expect(detail['reruns']).toEqual([rerun.id]);
      // The conductor asked admission at once: the re-run waits for the claim, with its reason.
      const waiting = await prisma.job.findUniqueOrThrow({ where: { id: rerun.id } });
      expect(waiting.status).toBe('pending');
      expect(await post(`/api/v1/jobs/${rerun.id}/rerun`)).toMatchObject({ status: 409 });
    });

    it('approves a held job (then admission decides) and refuses to reject it afterwards; rejects another, which ends cancelled', async () => {
      await claimHolder();
      const held = await createPendingJob(prisma, { repository: REPOSITORY });
      const other = await createPendingJob(prisma, { repository: REPOSITORY });
      await prisma.job.updateMany({ where: { id: { in: [held.id, other.id] } }, data: { approval: 'required' } });

      expect(await post(`/api/v1/jobs/${held.id}/approve`)).toEqual({ status: 200, body: { job: expect.objectContaining({ approval: 'approved', status: 'pending' }) } });
      expect(await post(`/api/v1/jobs/${held.id}/reject`)).toEqual({ status: 409, body: expect.objectContaining({ message: `job ${held.id} was already approved` }) });
      expect(await post(`/api/v1/jobs/${other.id}/reject`, { reason: 'not during the freeze' })).toEqual({
        status: 200,
        body: { job: expect.objectContaining({ approval: 'rejected', status: 'cancelled' }) },
      });
    });

    it('refuses a body with an unknown field or an overlong reason (400), changing nothing', async () => {
      const job = await createPendingJob(prisma);
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, { reson: 'typo' })).toMatchObject({ status: 400 });
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, { reason: 'x'.repeat(1001) })).toMatchObject({ status: 400 });
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, { reason: 42 })).toMatchObject({ status: 400 });
      expect((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('pending');
    });

    it('takes the session cookie with X-Requested-With, and refuses an action without credentials', async () => {
      const job = await createPendingJob(prisma);
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, undefined, {})).toMatchObject({ status: 401 });
      const cookie = await loginCookie(base);
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, undefined, { cookie })).toMatchObject({ status: 403 });
      expect((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('pending');
      expect(await post(`/api/v1/jobs/${job.id}/cancel`, undefined, { cookie, 'x-requested-with': 'console' })).toMatchObject({ status: 200 });
    });

    it('documents the four actions in OpenAPI', async () => {
      const response = await fetch(`${base}/api/docs/openapi.json`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` } });
      const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
      for (const action of ['cancel', 'rerun', 'approve', 'reject']) expect(document.paths[`/api/v1/jobs/{id}/${action}`]).toHaveProperty('post');
    });
  });

  describe('proxy mode', () => {
    const keys = new FakeAlbKeys();
    let app: INestApplication;

    beforeAll(async () => {
      await keys.start();
      app = await startConductor({ mode: 'proxy', albArn: TEST_ALB_ARN, publicKeyUrl: keys.url });
    });
    afterAll(async () => {
      await app?.close();
      await keys.stop();
    });
    beforeEach(() => resetDatabase(prisma));

    it("records the proxy user's email as the actor", async () => {
      const job = await createPendingJob(prisma);
      const response = await fetch(`${baseUrl(app)}/api/v1/jobs/${job.id}/cancel`, {
        method: 'POST',
        headers: { 'x-amzn-oidc-data': keys.jwt({ email: 'oncall@example.com' }) },
      });
      expect(response.status).toBe(200);
      expect(await prisma.jobAction.findMany({ select: { action: true, actor: true } })).toEqual([{ action: 'cancel', actor: 'oncall@example.com' }]);
    });
  });
});
