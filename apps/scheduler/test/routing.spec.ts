import { createPrismaClient, PrismaClient } from '@agent-conductor/db';
import { DEFAULT_FOLLOW_UP_POLICY, DEFAULT_INCIDENT_POLICY } from '@agent-conductor/scheduling';
import { freePort, resetDatabase } from '@agent-conductor/testing';
import { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSchedulerConfig } from '../src/config/env.validators';
import { bootstrapScheduler } from '../src/bootstrap';
import { SchedulerTestClient } from './scheduler-client';

function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through `nx test scheduler` (libs/testing global setup)');
  return url;
}

/** The Jira REST fixture as ENG-123 with the label "auth": the example file's first ticket rule. */
const ISSUE = readFileSync(join(__dirname, 'fixtures', 'jira-issue.json'), 'utf8');

describe('the scheduler with ROUTING_FILE', () => {
  let app: INestApplication;
  let client: SchedulerTestClient;
  let prisma: PrismaClient;

  beforeAll(async () => {
    const workspace = resolve(__dirname, '../../..');
    const config = {
      ...loadSchedulerConfig({ ROUTING_FILE: 'config/routing.example.json' }, workspace),
      databaseUrl: databaseUrl(),
      dbConnectTimeoutMs: 0,
      grpcListenAddr: `127.0.0.1:${await freePort()}`,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      followUpPolicy: DEFAULT_FOLLOW_UP_POLICY,
    };
    app = await bootstrapScheduler(config, { logger: false });
    client = new SchedulerTestClient(config.grpcListenAddr);
    prisma = createPrismaClient(databaseUrl());
    await resetDatabase(prisma);
  });
  afterAll(async () => {
    client?.close();
    await prisma?.$disconnect();
    await app?.close();
  });

  it("stores the matching rule's route on the job (config/routing.example.json)", async () => {
    const response = await client.submitMessage({ messageId: 'routed-1', body: ISSUE, receivedAt: '2026-05-12T18:22:14.000Z' });
    expect(response.decisions).toEqual([expect.objectContaining({ key: 'ENG-123', repository: 'https://github.com/acme/auth.git' })]);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: response.decisions[0]?.jobId } });
    expect(job).toMatchObject({
      repository: 'https://github.com/acme/auth.git',
      branch: 'main',
      sparsePaths: ['services/auth'],
      workerTaskDefinition: 'agent-worker-node22',
      maxTokens: 2_000_000,
    });
  });
});
