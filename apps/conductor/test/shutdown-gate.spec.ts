import type { PrismaClient } from '@agent-conductor/db';
import { WorkerRepository } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import type { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { ShutdownGateService, type ShutdownOutcome } from '../src/shutdown-gate/shutdown-gate.service';
import { startConductorParts } from './support/conductor-parts';
import { eventually } from './support/eventually';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

describe('shutdown gate', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    // The gate counts every worker in the database.
    await resetDatabase(prisma);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  async function start(overrides: Partial<ConductorConfig> = {}): Promise<{ app: INestApplication; config: ConductorConfig; gate: ShutdownGateService }> {
    const config = await testConfig({ shutdownPollIntervalMs: 50, ...overrides });
    app = await startConductorParts(config);
    return { app, config, gate: app.get(ShutdownGateService) };
  }

  async function registerWorker(started: INestApplication): Promise<{ id: string; jobId: string }> {
    const job = await createPendingJob(prisma);
    const worker = await started.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: 'ab'.repeat(32) });
    return { id: worker.id, jobId: job.id };
  }

  function track(gate: ShutdownGateService): { outcome: ShutdownOutcome | undefined } {
    const seen: { outcome: ShutdownOutcome | undefined } = { outcome: undefined };
    void gate.whenReady().then((outcome) => {
      seen.outcome = outcome;
    });
    return seen;
  }

  it('waits for active workers after IS_CONDUCTOR_SHUTTING_DOWN turns true, then writes the ready file', async () => {
    const { app, config, gate } = await start();
    const flag = join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN');
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    expect((await readFile(flag, 'utf8')).trim()).toBe('false');

    const worker = await registerWorker(app);
    const seen = track(gate);

    // A few polls with "false" change nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gate.isDraining).toBe(false);

    await writeFile(flag, 'true\n');
    await eventually('the gate to start draining', async () => (gate.isDraining ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(ready)).toBe(false);
    expect(seen.outcome).toBeUndefined();

    // No new launches while draining: the job stays pending for the next conductor.
    const waiting = await createPendingJob(prisma);
    expect(await app.get(JobLaunchService).launch(waiting.id)).toEqual({ status: 'draining' });
    expect((await prisma.job.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe('pending');

    await app.get(WorkerRepository).end(worker.id, 'shutdown: succeeded');
    await eventually('the ready file', async () => (existsSync(ready) ? true : undefined));
    expect(await gate.whenReady()).toEqual({ mode: 'drain', handedOver: 0 });
  });

  it('does not wait forever for a worker row nobody has heard from (a crashed predecessor’s)', async () => {
    const { app, config, gate } = await start({ shutdownStaleWorkerMs: 60_000 });
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    const dead = await registerWorker(app);
    await prisma.worker.update({ where: { id: dead.id }, data: { state: 'connected', lastEventAt: new Date(Date.now() - 10 * 60_000) } });
    const live = await registerWorker(app);
    const seen = track(gate);

    void gate.requestShutdown('test');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The live one is still waited for...
    expect(seen.outcome).toBeUndefined();
    expect(existsSync(ready)).toBe(false);

    // ...the silent one is not: settling it is the orphan checks' job, not the gate's.
    await app.get(WorkerRepository).end(live.id, 'shutdown: succeeded');
    expect(await gate.whenReady()).toEqual({ mode: 'drain', handedOver: 0 });
    expect(existsSync(ready)).toBe(true);
  });

  it('counts a worker again as soon as it is heard from', async () => {
    const { app, gate } = await start({ shutdownStaleWorkerMs: 60_000 });
    const worker = await registerWorker(app);
    // Silent for most of the window, then a heartbeat arrives: it counts again.
    await prisma.worker.update({ where: { id: worker.id }, data: { lastEventAt: new Date(Date.now() - 59_000) } });
    expect(await gate.countLiveWorkers()).toBe(1);
    expect(await gate.countLiveWorkers(new Date(Date.now() + 2_000))).toBe(0);
    await app.get(WorkerRepository).touch(worker.id);
    expect(await gate.countLiveWorkers(new Date(Date.now() + 2_000))).toBe(1);
  });

  it('in handoff mode stops launching and writes the ready file without waiting for running workers', async () => {
    const { app, config, gate } = await start({ shutdownMode: 'handoff' });
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    const worker = await registerWorker(app);

    await writeFile(join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'true\n');
    expect(await gate.whenReady()).toEqual({ mode: 'handoff', handedOver: 1 });
    expect(existsSync(ready)).toBe(true);
    // The worker is left exactly as it was, for the next conductor to serve.
    expect((await prisma.worker.findUniqueOrThrow({ where: { id: worker.id } })).state).toBe('registered');
    const waiting = await createPendingJob(prisma);
    expect(await app.get(JobLaunchService).launch(waiting.id)).toEqual({ status: 'draining' });
    expect((await prisma.job.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe('pending');
  });
});
