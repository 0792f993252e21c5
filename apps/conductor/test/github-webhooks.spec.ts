import { schedulerV1 } from '@agent-conductor/contracts';
import type { PrismaClient } from '@agent-conductor/db';
import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { eventually, FakeGitHub, githubWebhookSignature, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapConductor } from '../src/bootstrap';
import { startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';
import { testConfig, testPrisma } from './support/fixtures';
import { startLocalIntakeQueue, type LocalIntakeQueue } from './support/local-queue';

const SECRET = 'webhook-secret-for-the-spec-7d1c';
const MAX_BYTES = 64 * 1024;

const reviewComment = {
  action: 'created',
  comment: { id: 1, body: '@agent please rename this', path: 'src/orders.ts', line: 12, user: { login: 'reviewer' }, author_association: 'MEMBER', created_at: '2026-05-12T18:20:00Z' },
  pull_request: { number: 7, html_url: 'https://github.com/acme/orders-api/pull/7', state: 'open', head: { ref: 'agent/SHOP-1' } },
  repository: { full_name: 'acme/orders-api' },
};

/**
 * The ingress through the real app: HTTP over loopback, the real intake queue (local SQS) read by the conductor's
 * own intake, which hands each message to a scheduler that classifies it with the scheduler's real rules.
 */
describe('POST /webhooks/github', () => {
  let prisma: PrismaClient;
  let queue: LocalIntakeQueue;
  let scheduler: FakeScheduler;
  let github: FakeGitHub;
  const submitted: schedulerV1.SubmitMessageRequest[] = [];
  const reasons: string[] = [];
  const logLines: string[] = [];
  const submit: { current: Submit } = {
    current: async (request) => {
      submitted.push(request);
      const classified = classifyMessage(request.body);
      reasons.push(classified.classification === 'rejected' ? classified.reason : classified.classification);
      return { deliveryId: randomUUID(), classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, rejectionReason: reasons.at(-1) ?? '', duplicate: false, decisions: [] };
    },
  };
  const capture: LoggerService = {
    log: (message: unknown) => void logLines.push(String(message)),
    warn: (message: unknown) => void logLines.push(String(message)),
    error: (message: unknown) => void logLines.push(String(message)),
    debug: (message: unknown) => void logLines.push(String(message)),
    verbose: (message: unknown) => void logLines.push(String(message)),
  };
  let app: INestApplication;
  let url: string;

  async function start(secret: string | undefined): Promise<INestApplication> {
    const config = await testConfig({
      sqsQueueUrl: queue.queueUrl,
      sqsEndpoint: queue.endpoint,
      schedulerGrpcAddr: scheduler.address,
      githubWebhookMaxBytes: MAX_BYTES,
      ...(secret ? { githubWebhookSecret: secret } : {}),
    });
    return bootstrapConductor(config, { logger: capture });
  }

  function deliveredIds(): string[] {
    return submitted.map((request) => (JSON.parse(request.body) as { githubWebhook: { deliveryId: string } }).githubWebhook.deliveryId);
  }

  /** A good delivery sent after the refused ones and waited for: had they queued anything, it would be here too. */
  async function sentinel(): Promise<string> {
    const answer = await github.sendWebhook(url, { event: 'ping', payload: { zen: 'Keep it logically awesome.' }, secret: SECRET });
    expect(answer.status).toBe(202);
    await eventually('the sentinel delivery at the scheduler', async () => (deliveredIds().includes(answer.deliveryId) ? true : undefined));
    return answer.deliveryId;
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    queue = await startLocalIntakeQueue('conductor-github-webhooks-spec');
    scheduler = await startFakeScheduler(submit);
    github = await new FakeGitHub({ gitRoot: await mkdtemp(join(tmpdir(), 'webhooks-git-')), pushToken: 'unused' }).start();
    app = await start(SECRET);
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/webhooks/github`;
  });

  afterAll(async () => {
    await app?.close();
    await github?.stop();
    await scheduler?.stop();
    await queue?.stop();
    await prisma?.$disconnect();
  });

  it('queues a signed review comment once, which the scheduler\'s rules read as an update (docs/follow-ups.md)', async () => {
    const answer = await github.sendWebhook(url, { event: 'pull_request_review_comment', payload: reviewComment, secret: SECRET });
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'queued', deliveryId: answer.deliveryId, event: 'pull_request_review_comment' });
    const request = await eventually('the delivery at the scheduler', async () => submitted.find((candidate) => candidate.body.includes(answer.deliveryId)));
    expect(JSON.parse(request.body)).toEqual({ githubWebhook: { deliveryId: answer.deliveryId, event: 'pull_request_review_comment' }, payload: reviewComment });
    expect(reasons[submitted.indexOf(request)]).toBe('update');
    expect(await prisma.githubWebhookDelivery.findUnique({ where: { deliveryId: answer.deliveryId } })).toMatchObject({ event: 'pull_request_review_comment' });
  });

  it('accepts a replayed delivery id without queueing it twice', async () => {
    const first = await github.sendWebhook(url, { event: 'issue_comment', payload: { action: 'created', issue: { number: 7 } }, secret: SECRET });
    expect(first.status).toBe(202);
    const replay = await github.sendWebhook(url, { event: 'issue_comment', payload: { action: 'created', issue: { number: 7 } }, secret: SECRET, deliveryId: first.deliveryId });
    expect(replay.status).toBe(202);
    expect(JSON.parse(replay.body)).toMatchObject({ status: 'duplicate', deliveryId: first.deliveryId });
    await sentinel();
    expect(deliveredIds().filter((id) => id === first.deliveryId)).toHaveLength(1);
  });

  it('refuses a bad or missing signature with 401 and queues nothing', async () => {
    const body = JSON.stringify(reviewComment);
    const forged = await github.sendWebhook(url, { event: 'issue_comment', payload: reviewComment, secret: 'not-the-webhook-secret' });
    const tampered = await github.sendWebhook(url, { event: 'issue_comment', payload: reviewComment, secret: SECRET, rawBody: body.replace('rename', 'delete') , signature: githubWebhookSignature(SECRET, body) });
    const missing = await github.sendWebhook(url, { event: 'issue_comment', payload: reviewComment, secret: SECRET, signature: '' });
    const sha1 = await github.sendWebhook(url, { event: 'issue_comment', payload: reviewComment, secret: SECRET, signature: 'sha1=0123456789abcdef0123456789abcdef01234567' });
    for (const refused of [forged, tampered, missing, sha1]) {
      expect(refused.status).toBe(401);
      expect(refused.body).not.toContain(SECRET);
    }
    await sentinel();
    const refusedIds = [forged, tampered, missing, sha1].map((refused) => refused.deliveryId);
    expect(deliveredIds().filter((id) => refusedIds.includes(id))).toEqual([]);
    expect(await prisma.githubWebhookDelivery.count({ where: { deliveryId: { in: refusedIds } } })).toBe(0);
  });

  it('refuses a body over the limit with 413', async () => {
    const padding = 'x'.repeat(MAX_BYTES);
    const oversized = await github.sendWebhook(url, { event: 'issue_comment', payload: { ...reviewComment, padding }, secret: SECRET });
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body)).toMatchObject({ message: `webhook body is larger than ${MAX_BYTES} bytes` });
    // Just under the limit still passes.
    const fits = await github.sendWebhook(url, { event: 'issue_comment', payload: { padding: 'x'.repeat(MAX_BYTES - 200) }, secret: SECRET });
    expect(fits.status).toBe(202);
    await sentinel();
    expect(deliveredIds()).not.toContain(oversized.deliveryId);
    expect(deliveredIds()).toContain(fits.deliveryId);
  });

  it('refuses a chunked body (no Content-Length) with 413 once it passes the limit', async () => {
    const deliveryId = randomUUID();
    const status = await new Promise<number>((resolve, reject) => {
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const sending = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': deliveryId, 'x-hub-signature-256': githubWebhookSignature(SECRET, 'x') } });
      sending.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      sending.on('error', reject);
      // Twice the limit, in chunks; the answer comes once the limit is passed.
      for (let sent = 0; sent < 2 * MAX_BYTES; sent += chunk.length) sending.write(chunk);
      sending.end();
    });
    expect(status).toBe(413);
    expect(await prisma.githubWebhookDelivery.count({ where: { deliveryId } })).toBe(0);
  });

  it('answers 202 to an event it does not handle, logs why, and queues nothing', async () => {
    const push = await github.sendWebhook(url, { event: 'push', payload: { ref: 'refs/heads/main' }, secret: SECRET });
    expect(push.status).toBe(202);
    expect(JSON.parse(push.body)).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^event push is not handled/) });
    expect(logLines.some((line) => line.includes(push.deliveryId) && line.includes('ignored: event push is not handled'))).toBe(true);
    await sentinel();
    expect(deliveredIds()).not.toContain(push.deliveryId);
  });

  it('refuses a signed body that is not JSON, or a delivery without a delivery id, with 400', async () => {
    const notJson = await github.sendWebhook(url, { event: 'issue_comment', payload: null, rawBody: 'payload=%7B%7D', secret: SECRET });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatch(/application\/json/);
    const noDelivery = await github.sendWebhook(url, { event: 'issue_comment', payload: {}, secret: SECRET, deliveryId: 'not a guid; drop table' });
    expect(noDelivery.status).toBe(400);
  });

  it('never writes the secret or a signature to the log', async () => {
    expect(logLines.some((line) => line.includes('queued as message'))).toBe(true);
    expect(logLines.filter((line) => line.includes(SECRET) || /sha256=[0-9a-f]{8}/.test(line))).toEqual([]);
  });

  it('answers 404 when no secret is configured', async () => {
    const off = await start(undefined);
    try {
      const offUrl = `http://127.0.0.1:${(off.getHttpServer().address() as AddressInfo).port}/webhooks/github`;
      const answer = await github.sendWebhook(offUrl, { event: 'issue_comment', payload: reviewComment, secret: SECRET });
      expect(answer.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
