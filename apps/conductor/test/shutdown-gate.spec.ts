import type { PrismaClient } from '@agent-conductor/db';
import { WorkerRepository } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { ShutdownGateService } from '../src/shutdown-gate/shutdown-gate.service';
import { startConductorParts } from './support/conductor-parts';
import { eventually } from './support/eventually';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

describe('shutdown gate', () => {
  let prisma: PrismaClient;
  let app: INestApplication;
  let config: ConductorConfig;

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    config = await testConfig({ shutdownPollIntervalMs: 50 });
    app = await startConductorParts(config);
  });

  afterAll(async () => {
    await app.close();
    await prisma.$disconnect();
  });

  it('waits for active workers after IS_CONDUCTOR_SHUTTING_DOWN turns true, then writes the ready file', async () => {
    const flag = join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN');
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    expect((await readFile(flag, 'utf8')).trim()).toBe('false');

    const running = await createPendingJob(prisma);
    const worker = await app.get(WorkerRepository).register({ jobId: running.id, attempt: 1, launcher: 'local', tokenHash: 'ab'.repeat(32) });
    const gate = app.get(ShutdownGateService);
    let isReady = false;
    void gate.whenReady().then(() => {
      isReady = true;
    });

    // A few polls with "false" change nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gate.isDraining).toBe(false);

    await writeFile(flag, 'true\n');
    await eventually('the gate to start draining', async () => (gate.isDraining ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(ready)).toBe(false);
    expect(isReady).toBe(false);

    // No new launches while draining: the job stays pending for the next conductor.
    const waiting = await createPendingJob(prisma);
    expect(await app.get(JobLaunchService).launch(waiting.id)).toEqual({ status: 'draining' });
    expect((await prisma.job.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe('pending');

    await app.get(WorkerRepository).end(worker.id, 'shutdown: succeeded');
    await eventually('the ready file', async () => (existsSync(ready) ? true : undefined));
    await gate.whenReady();
    expect(isReady).toBe(true);
  });
});
