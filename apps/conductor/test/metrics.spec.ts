import { schedulerV1 } from '@agent-conductor/contracts';
import type { PrismaClient } from '@agent-conductor/db';
import { LocalSqsServer } from '@agent-conductor/local-sqs';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapConductor } from '../src/bootstrap';
import { createConductorLogger } from '../src/logging/conductor-logger';
import { startFakeScheduler, type FakeScheduler, type Submit } from './support/fake-scheduler';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

/** One series' value in Prometheus text (labels in any order; `app` is added), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries({ ...labels, app: 'conductor' }).map(([key, value]) => `${key}="${value}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] === name && match[2]?.split(',').sort().join(',') === wanted) return Number(match[3]);
  }
  return 0;
}

describe('conductor /metrics and JSON logs after real work (SQS → gRPC scheduler → launch)', () => {
  let prisma: PrismaClient;
  let sqsServer: LocalSqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let scheduler: FakeScheduler;
  let app: INestApplication;
  let base: string;
  let tokenDir: string;
  const answer: { current: Submit } = { current: async () => ({ deliveryId: '', classification: 0, rejectionReason: '', duplicate: false, decisions: [] }) };
  const lines: string[] = [];
  const savedCache = process.env['METRICS_DB_CACHE_MS'];

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    sqsServer = new LocalSqsServer({ port: 0, host: '127.0.0.1' });
    const { endpoint } = await sqsServer.start();
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'conductor-metrics-spec' }))).QueueUrl ?? '';
    // A little latency, so the histogram's sum is visibly above zero.
    scheduler = await startFakeScheduler(answer, { latencyMs: 20 });
    // The worker stand-in records the token it was given, so the test can look for it in the conductor's log.
    tokenDir = await mkdtemp(join(tmpdir(), 'conductor-metrics-tokens-'));
    const fakeWorker = join(tokenDir, 'fake-worker.js');
    await writeFile(fakeWorker, `require('fs').writeFileSync(${JSON.stringify(tokenDir)} + '/' + process.env.WORKER_ID, process.env.WORKER_TOKEN); setTimeout(() => {}, 20000);\n`);
    process.env['METRICS_DB_CACHE_MS'] = '0';
    app = await bootstrapConductor(
      {
        ...(await testConfig()),
        sqsQueueUrl: queueUrl,
        sqsEndpoint: endpoint,
        schedulerGrpcAddr: scheduler.address,
        schedulerCallTimeoutMs: 2000,
        workerCommand: `${process.execPath} ${fakeWorker}`,
      },
      { logger: createConductorLogger({ logFormat: 'json', debugLogs: false }, (line) => lines.push(line)) },
    );
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (savedCache === undefined) delete process.env['METRICS_DB_CACHE_MS'];
    else process.env['METRICS_DB_CACHE_MS'] = savedCache;
    await app?.close();
    await scheduler?.stop();
    sqs?.destroy();
    await sqsServer?.stop();
    await prisma?.$disconnect();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('counts received, decided and rejected messages, the submit round trip, the launch, and jobs and workers from Postgres', async () => {
    const before = await scrape();
    expect(before).toContain('# TYPE conductor_submit_message_duration_seconds histogram');
    expect(before).toContain('process_resident_memory_bytes');
    expect(sample(before, 'conductor_metrics_db_up')).toBe(1);

    const job = await createPendingJob(prisma, { key: 'OPS-1' });
    answer.current = async () => ({
      deliveryId: job.deliveryId,
      classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
      rejectionReason: '',
      duplicate: false,
      decisions: [{ jobId: job.id, kind: schedulerV1.SpawnKind.SPAWN_KIND_TICKET, key: 'OPS-1', repository: job.repository }],
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"key":"OPS-1"}' }));
    const worker = await eventually('the worker to be launched', async () => {
      const row = await prisma.worker.findFirst({ where: { jobId: job.id, state: 'launched' } });
      return row ?? undefined;
    });

    answer.current = async () => ({ deliveryId: 'd', classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED, rejectionReason: 'not JSON', duplicate: false, decisions: [] });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'garbage' }));

    const after = await eventually('the rejected message to be counted', async () => {
      const text = await scrape();
      return sample(text, 'conductor_messages_rejected_total') - sample(before, 'conductor_messages_rejected_total') === 1 ? text : undefined;
    });
    const delta = (name: string, labels: Record<string, string> = {}): number => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('conductor_messages_received_total')).toBe(2);
    expect(delta('conductor_messages_decided_total', { classification: 'ticket', duplicate: 'false' })).toBe(1);
    expect(delta('conductor_spawn_decisions_total')).toBe(1);
    expect(delta('conductor_submit_message_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(sample(after, 'conductor_submit_message_duration_seconds_sum', { outcome: 'ok' })).toBeGreaterThanOrEqual(0.02);
    expect(delta('conductor_worker_launches_total')).toBe(1);
    expect(sample(after, 'conductor_jobs', { status: 'launching' })).toBe(1);
    expect(sample(after, 'conductor_jobs', { status: 'succeeded' })).toBe(0);
    expect(sample(after, 'conductor_workers', { state: 'launched' })).toBe(1);
    expect(sample(after, 'conductor_active_workers')).toBe(1);

    // A review comment recorded as an update (docs/follow-ups.md) is a decided message too.
    answer.current = async () => ({ deliveryId: 'u', classification: schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_UPDATE, rejectionReason: 'not addressed to the agent', duplicate: false, decisions: [] });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"githubWebhook":{}}' }));
    await eventually('the update to be counted', async () => {
      const text = await scrape();
      return sample(text, 'conductor_messages_decided_total', { classification: 'update', duplicate: 'false' }) === 1 ? text : undefined;
    });

    // The launch is logged with both ids as fields, and the token the worker received appears nowhere.
    const token = await readFile(join(tokenDir, worker.id), 'utf8');
    expect(token.length).toBeGreaterThan(20);
    expect(lines.join('')).not.toContain(token);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.find((record) => record['context'] === 'JobLaunchService' && record['workerId'] === worker.id)).toMatchObject({
      level: 'info',
      service: 'conductor',
      jobId: job.id,
      workerId: worker.id,
    });
  });
});
