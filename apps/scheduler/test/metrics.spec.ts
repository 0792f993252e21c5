import { schedulerV1 } from '@agent-conductor/contracts';
import { createPrismaClient, type PrismaClient } from '@agent-conductor/db';
import { StructuredLogger } from '@agent-conductor/observability';
import { DEFAULT_FOLLOW_UP_POLICY, DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { freePort, resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bootstrapScheduler } from '../src/bootstrap';
import { SchedulerTestClient } from './scheduler-client';

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through `nx test scheduler`');
  return url;
}

/** The value of one series in Prometheus text (labels in any order), 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries({ ...labels, app: 'scheduler' }).map(([key, value]) => `${key}="${value}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] === name && match[2]?.split(',').sort().join(',') === wanted) return Number(match[3]);
  }
  return 0;
}

describe('scheduler /metrics and JSON logs after real SubmitMessage calls', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;
  let metricsUrl: string;
  const lines: string[] = [];

  beforeAll(async () => {
    const grpc = `127.0.0.1:${await freePort()}`;
    app = await bootstrapScheduler(
      {
        production: false,
        databaseUrl: databaseUrl(),
        dbConnectTimeoutMs: 0,
        grpcListenAddr: grpc,
        defaultRepositoryUrl: '/srv/git/sample-app.git',
        defaultRepositoryBranch: 'main',
        incidentPolicy: DEFAULT_INCIDENT_POLICY,
        followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
      },
      { logger: new StructuredLogger({ service: 'scheduler', format: 'json', write: (line) => lines.push(line) }), ops: { httpPort: 0, healthCheckTimeoutMs: 2000 } },
    );
    metricsUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/metrics`;
    client = new SchedulerTestClient(grpc);
    prisma = createPrismaClient(databaseUrl());
    await resetDatabase(prisma);
  });

  afterAll(async () => {
    client?.close();
    await prisma?.$disconnect();
    await app?.close();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  }

  it('counts a decided ticket, its spawn and its latency; a rejected message under its own label', async () => {
    const before = await scrape();
    expect(before).toContain('# TYPE scheduler_decision_duration_seconds histogram');
    expect(before).toContain('process_cpu_user_seconds_total');

    const ticket = readFileSync(join(__dirname, 'fixtures', 'jira-issue.json'), 'utf8');
    const response = await client.submitMessage({ messageId: 'metrics-1', body: ticket, receivedAt: '2026-05-12T18:22:14.000Z' });
    await client.submitMessage({ messageId: 'metrics-2', body: 'not json', receivedAt: '2026-05-12T18:22:15.000Z' });

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>): number => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('scheduler_messages_decided_total', { classification: 'ticket', duplicate: 'false' })).toBe(1);
    expect(delta('scheduler_messages_decided_total', { classification: 'rejected', duplicate: 'false' })).toBe(1);
    expect(delta('scheduler_spawn_decisions_total', { kind: 'ticket' })).toBe(1);
    expect(delta('scheduler_decision_duration_seconds_count', { classification: 'ticket' })).toBe(1);
    expect(delta('scheduler_decision_duration_seconds_count', { classification: 'rejected' })).toBe(1);
    expect(sample(after, 'scheduler_decision_duration_seconds_sum', { classification: 'ticket' })).toBeGreaterThan(0);

    // A SubmitMessages batch is counted and timed message by message too.
    const batched = await client.submitMessages({
      messages: [
        { messageId: 'metrics-3', body: ticket.replace(/"key":\s*"[^"]+"/, '"key": "METRICS-3"'), receivedAt: '2026-05-12T18:22:16.000Z' },
        { messageId: 'metrics-4', body: 'still not json', receivedAt: '2026-05-12T18:22:17.000Z' },
      ],
    });
    expect(batched.outcomes.map((outcome) => outcome.response?.classification)).toEqual([
      schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_TICKET,
      schedulerV1.MessageClassification.MESSAGE_CLASSIFICATION_REJECTED,
    ]);
    const afterBatch = await scrape();
    const batchDelta = (name: string, labels: Record<string, string>): number => sample(afterBatch, name, labels) - sample(after, name, labels);
    expect(batchDelta('scheduler_decision_duration_seconds_count', { classification: 'ticket' })).toBe(1);
    expect(batchDelta('scheduler_decision_duration_seconds_count', { classification: 'rejected' })).toBe(1);
    expect(batchDelta('scheduler_messages_decided_total', { classification: 'ticket', duplicate: 'false' })).toBe(1);
    expect(batchDelta('scheduler_spawn_decisions_total', { kind: 'ticket' })).toBe(1);

    // The decision's log line names its job as a field, not only in prose.
    const decided = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((record) => record['messageId'] === 'metrics-1');
    expect(decided).toMatchObject({ service: 'scheduler', level: 'info', context: 'IngestService', classification: 'ticket', jobId: response.decisions[0]?.jobId });
  });
});
