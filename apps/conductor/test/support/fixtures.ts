import { createPrismaClient, type Job, type Prisma, type PrismaClient } from '@agent-conductor/db';
import { freePort, testRunPrefix } from '@agent-conductor/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConductorConfig, type ConductorConfig } from '../../src/config/env.validators';

export function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run through jest with the libs/testing globalSetup');
  return url;
}

export function testPrisma(): PrismaClient {
  return createPrismaClient(databaseUrl());
}

/** A config with its own run/results directories and free ports. */
export async function testConfig(overrides: Partial<ConductorConfig> = {}): Promise<ConductorConfig> {
  const base = await mkdtemp(join(tmpdir(), testRunPrefix('conductor-test')));
  const grpc = `127.0.0.1:${await freePort()}`;
  return {
    ...loadConductorConfig({ NODE_ENV: 'test' }),
    databaseUrl: databaseUrl(),
    runDir: join(base, 'run'),
    resultsDir: join(base, 'results'),
    workerWorkRoot: join(base, 'workers'),
    grpcListenAddr: grpc,
    grpcDialAddr: grpc,
    httpPort: 0,
    pendingSweepIntervalMs: 3_600_000,
    shutdownPollIntervalMs: 50,
    ...overrides,
  };
}

/** A pending job the way the scheduler writes it (delivery and job in one go). */
type JobOverrides = Partial<Pick<Job, 'kind' | 'key' | 'repository' | 'taskMarkdown' | 'branch' | 'sparsePaths' | 'workerTaskDefinition' | 'claimKey' | 'claimLimit' | 'followUpOfId'>> & {
  /** jobs.repositories, written with the job: a running conductor's admission could launch it before a later update. */
  repositories?: Prisma.InputJsonValue;
};

export function createPendingJob(prisma: PrismaClient, overrides: JobOverrides = {}): Promise<Job> {
  return createJob(prisma, overrides, { status: 'pending', attempts: 0 });
}

/**
 * A job as admission leaves it once it claimed the first attempt. Created in that state, not claimed after the
 * fact: a running conductor's admission would otherwise race the test for a pending row.
 */
export function createClaimedJob(prisma: PrismaClient, overrides: JobOverrides = {}): Promise<Job> {
  return createJob(prisma, overrides, { status: 'launching', attempts: 1 });
}

async function createJob(prisma: PrismaClient, overrides: JobOverrides, state: Pick<Job, 'status' | 'attempts'>): Promise<Job> {
  const kind = overrides.kind ?? 'ticket';
  const delivery = await prisma.delivery.create({
    data: { sqsMessageId: randomUUID(), receivedAt: new Date(), body: '{}', classification: kind === 'ticket' ? 'ticket' : 'alarm' },
  });
  const repository = overrides.repository ?? 'https://github.com/acme/orders-api.git';
  return prisma.job.create({
    data: {
      kind,
      key: overrides.key ?? `ABC-${Math.floor(Math.random() * 100000)}`,
      deliveryId: delivery.id,
      repository,
      // The scheduler stores the claim key on every job it decides: the route's claim, else the repository.
      claimKey: overrides.claimKey ?? repository,
      ...(overrides.claimLimit !== undefined ? { claimLimit: overrides.claimLimit } : {}),
      taskMarkdown: overrides.taskMarkdown ?? '# Fix the orders endpoint\n',
      ...(overrides.branch !== undefined ? { branch: overrides.branch } : {}),
      ...(overrides.sparsePaths !== undefined ? { sparsePaths: overrides.sparsePaths } : {}),
      ...(overrides.workerTaskDefinition !== undefined ? { workerTaskDefinition: overrides.workerTaskDefinition } : {}),
      ...(overrides.followUpOfId !== undefined ? { followUpOfId: overrides.followUpOfId } : {}),
      ...(overrides.repositories !== undefined ? { repositories: overrides.repositories } : {}),
      ...state,
    },
  });
}
