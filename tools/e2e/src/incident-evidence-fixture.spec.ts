import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { CloudWatchFixtureServer, eventually, TELEMETRY_FIXTURE_DIR, type LocalStack, startLocalStack } from '@agent-conductor/dev-stack';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const SAMPLE_ALARM = join(__dirname, '../fixtures/cloudwatch-alarm.eventbridge.json');
const SAMPLE_ACCOUNT = '123456789012';

describe('the dev stack fixture: the sample alarm gets an evidence pack from recorded telemetry', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let telemetry: CloudWatchFixtureServer;
  let stack: LocalStack;
  let extracted: string;

  beforeAll(async () => {
    extracted = await mkdtemp(join(tmpdir(), 'e2e-evidence-'));
    telemetry = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await telemetry.start();
    stack = await startLocalStack(databaseUrl, { INCIDENT_EVIDENCE: 'on', CLOUDWATCH_ENDPOINT: endpoint });
  });

  afterAll(async () => {
    await stack?.stop();
    await telemetry?.stop();
    await rm(extracted, { recursive: true, force: true });
    await prisma.$disconnect();
  });

  it('launches the incident job with the recorded CSV and a 960×360 PNG chart in its task archive', async () => {
    const sentAt = new Date();
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: readFileSync(SAMPLE_ALARM, 'utf8') }));

    const worker = await eventually(
      'the incident job of the sample alarm to launch a worker',
      async () => {
        const job = await prisma.job.findFirst({
          where: { kind: 'incident', key: SAMPLE_ACCOUNT, createdAt: { gte: sentAt } },
          include: { workers: { include: { events: { orderBy: { id: 'asc' } } } } },
        });
        const found = job?.workers[0];
        return found?.events.some((event) => event.type === 'launched') ? found : undefined;
      },
      120_000,
    );
    const evidenceEvents = worker.events.filter((event) => event.type.startsWith('incident-evidence-')).map((event) => ({ type: event.type, detail: event.detail }));
    expect(evidenceEvents).toEqual([{ type: 'incident-evidence-gathered', detail: { files: 4 } }]);
    // Built before the launch and kept on disk for the worker's download.
    const archive = join(stack.runDir, 'tasks', `${worker.id}.tar.gz`);
    await run('tar', ['-xzf', archive, '-C', extracted]);

    const alarmDir = join(extracted, 'incident', '01-api-high-cpu');
    const csv = await readFile(join(alarmDir, 'metric.csv'), 'utf8');
    // The whole recording lies inside the window (3 h before 20:58:58 until now), so the pack holds it unchanged.
    expect(csv).toBe(await readFile(join(TELEMETRY_FIXTURE_DIR, 'api-high-cpu', 'metric.csv'), 'utf8'));

    const png = await readFile(join(alarmDir, 'chart.png'));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: 960, height: 360 });

    const alarm = JSON.parse(await readFile(join(alarmDir, 'alarm.json'), 'utf8')) as { definition: { threshold: number }; history: Array<{ to: string }> };
    expect(alarm.definition.threshold).toBe(20);
    expect(alarm.history.map((change) => change.to)).toEqual(['ALARM', 'OK']);
    const task = await readFile(join(extracted, 'TASK.md'), 'utf8');
    expect(task).toContain('## Incident evidence');
    expect(task).toContain('api-high-cpu');
  });
});
