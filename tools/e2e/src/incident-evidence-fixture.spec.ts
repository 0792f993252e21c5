import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import {
  CloudWatchFixtureServer,
  ensureSampleRemote,
  eventually,
  fixtureRoutingTable,
  TELEMETRY_FIXTURE_DIR,
  type LocalStack,
  startLocalStack,
} from '@agent-conductor/dev-stack';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  let routing: string;

  beforeAll(async () => {
    // The e2e files share one database: a ticket key or an account's open incident left by another file would be
    // answered as a duplicate or joined instead of decided afresh.
    await resetDatabase(prisma);
    extracted = await mkdtemp(join(tmpdir(), 'e2e-evidence-'));
    routing = await mkdtemp(join(tmpdir(), 'e2e-evidence-routing-'));
    telemetry = await CloudWatchFixtureServer.fromDirectory();
    const { endpoint } = await telemetry.start();
    // The routing file `npm run dev` writes in fixture mode: the sample account's route queries the recorded logs.
    const repository = join(routing, 'sample-app.git');
    await ensureSampleRemote(repository);
    const routingFile = join(routing, 'routing.json');
    await writeFile(routingFile, JSON.stringify(fixtureRoutingTable({ repository, branch: 'main', logGroups: telemetry.recordedLogGroups })));
    stack = await startLocalStack(databaseUrl, { INCIDENT_EVIDENCE: 'on', CLOUDWATCH_ENDPOINT: endpoint }, { repository, extraSchedulerEnv: { ROUTING_FILE: routingFile } });
  });

  afterAll(async () => {
    await stack?.stop();
    await telemetry?.stop();
    await rm(extracted, { recursive: true, force: true });
    await rm(routing, { recursive: true, force: true });
    await prisma.$disconnect();
  });

  it('launches the incident job with the recorded CSV, a 960×360 PNG chart and the recorded logs in its task archive', async () => {
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
    expect(evidenceEvents).toEqual([{ type: 'incident-evidence-gathered', detail: { files: 6 } }]);
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
    // Every recorded log row lies inside the window too: the table and the CSV hold them all, oldest first.
    const recordedLogs = JSON.parse(await readFile(join(TELEMETRY_FIXTURE_DIR, 'api-high-cpu', 'logs.json'), 'utf8')) as { rows: Array<Record<string, string>> };
    const csvField = (value: string): string => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
    const logsCsv = await readFile(join(extracted, 'incident', 'logs.csv'), 'utf8');
    expect(logsCsv).toBe(`@timestamp,@logStream,@message\n${recordedLogs.rows.map((row) => `${[row['@timestamp'], row['@logStream'], row['@message']].map((value) => csvField(value ?? '')).join(',')}\n`).join('')}`);
    const logsTable = (await readFile(join(extracted, 'incident', 'logs.md'), 'utf8')).split('\n');
    expect(logsTable).toContain('| @timestamp | @logStream | @message |');
    expect(logsTable).toContain('| 2026-05-12 20:54:12.881 | api/worker/19ab | WARN report job queue depth 340 \\| threshold 100 |');
    expect(logsTable).toContain('| 2026-05-12 20:58:03.007 | api/worker/19ab | ERROR report builder: recomputing all rows, cache disabled<br>  at ReportBuilder.build (src/reports/builder.ts:88)<br>  at Worker.run (src/worker.ts:41) |');
    expect(logsTable.filter((line) => line.startsWith('| 2026-05-12'))).toHaveLength(recordedLogs.rows.length);

    const task = await readFile(join(extracted, 'TASK.md'), 'utf8');
    expect(task).toContain('## Incident evidence');
    expect(task).toContain('api-high-cpu');
    expect(task).toContain(`Logs Insights over 1 log group(s): ${recordedLogs.rows.length} row(s). [table](incident/logs.md), [data](incident/logs.csv).`);
  });
});
