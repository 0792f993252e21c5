import type { PrismaClient } from '@agent-conductor/db';
import { WorkerRepository } from '@agent-conductor/db';
import { eventually, resetDatabase } from '@agent-conductor/testing';
import { type DynamicModule, Global, type INestApplication, Module } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConductorConfig } from '../src/config/env.validators';
import { INTAKE_CONTROL, type IntakeControl } from '../src/intake/intake-control';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { ShutdownFlagFiles } from '../src/shutdown-gate/shutdown-flag.files';
import { ShutdownGateService, type ShutdownOutcome } from '../src/shutdown-gate/shutdown-gate.service';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

/** Stands in for the SQS intake: records drain() and holds it open until the test lets it finish. */
class HeldIntake implements IntakeControl {
  readonly isRunning = true;
  readonly lastReceiveError = undefined;
  readonly pausedReason = undefined;
  readonly lastHandlerError = undefined;
  drainCalls = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  drain(): Promise<void> {
    this.drainCalls++;
    return this.released;
  }

  finishInFlight(): void {
    this.release();
  }
}

function globalIntake(intake: IntakeControl): DynamicModule {
  @Global()
  @Module({})
  class HeldIntakeModule {}
  return { module: HeldIntakeModule, providers: [{ provide: INTAKE_CONTROL, useValue: intake }], exports: [INTAKE_CONTROL] };
}

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

  async function start(
    overrides: Partial<ConductorConfig> = {},
    options: { before?: (config: ConductorConfig) => Promise<void>; extraImports?: DynamicModule[] } = {},
  ): Promise<{ app: INestApplication; config: ConductorConfig; gate: ShutdownGateService }> {
    const config = await testConfig({ shutdownPollIntervalMs: 50, ...overrides });
    await options.before?.(config);
    app = await startConductorParts(config, options.extraImports);
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

  /**
   * Waits until the gate has polled the shutting-down flag `polls` more times and acted on each reading: the next
   * poll is scheduled only after the previous one saw "not shutting down", so one read more than asked proves it.
   * The spy observes the real file reads; it replaces nothing.
   */
  function watchFlagPolls(started: INestApplication, gate: ShutdownGateService): (polls: number) => Promise<void> {
    const reads = jest.spyOn(started.get(ShutdownFlagFiles), 'isShuttingDown');
    return async (polls) => {
      const target = reads.mock.calls.length + polls + 1;
      // A drain stops the polling: return, and let the caller's isDraining check say what went wrong.
      await eventually(`${polls} polls of the shutting-down flag`, async () =>
        reads.mock.calls.length >= target || gate.isDraining ? true : undefined,
      );
    };
  }

  /**
   * While draining, the gate counts live workers until none is left. Resolves with the first `counts` counts it
   * took and acted on (it counts again only after a count above zero): each was its chance to write the ready file.
   */
  function watchWorkerCounts(gate: ShutdownGateService): (counts: number) => Promise<number[]> {
    const calls = jest.spyOn(gate, 'countLiveWorkers');
    let finished = false;
    void gate.whenReady().then(() => {
      finished = true;
    });
    return async (counts) => {
      // A gate that finished early counts no more: return what it counted, for the caller's expectation to show.
      await eventually(`${counts} worker counts by the draining gate`, async () => (calls.mock.calls.length > counts || finished ? true : undefined));
      return Promise.all(calls.mock.results.slice(0, counts).map((result) => result.value));
    };
  }

  it('waits for active workers after IS_CONDUCTOR_SHUTTING_DOWN turns true, then writes the ready file', async () => {
    const { app, config, gate } = await start();
    const flag = join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN');
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    expect((await readFile(flag, 'utf8')).trim()).toBe('false');

    const worker = await registerWorker(app);
    const seen = track(gate);
    const flagPolls = watchFlagPolls(app, gate);
    const workerCounts = watchWorkerCounts(gate);

    // A few polls with "false" change nothing.
    await flagPolls(3);
    expect(gate.isDraining).toBe(false);

    await writeFile(flag, 'true\n');
    await eventually('the gate to start draining', async () => (gate.isDraining ? true : undefined));
    // Two counts found the worker, and neither wrote the ready file.
    expect(await workerCounts(2)).toEqual([1, 1]);
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
    const workerCounts = watchWorkerCounts(gate);

    void gate.requestShutdown('test');
    // The live one is still waited for, and counted alone...
    expect(await workerCounts(2)).toEqual([1, 1]);
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

  it("clears what a predecessor left in the run dir: its ready file and a shutting-down flag", async () => {
    const { config, gate } = await start(
      {},
      {
        before: async (config) => {
          await mkdir(config.runDir, { recursive: true });
          await writeFile(join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'), 'true\n');
          await writeFile(join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'true\n');
        },
      },
    );
    // A stale ready file would tell the deploy this fresh conductor may be replaced before it has even served.
    expect(existsSync(join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN'))).toBe(false);
    expect(await readFile(join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN'), 'utf8')).toBe('false\n');
    expect(gate.isDraining).toBe(false);
  });

  it('drain stops the intake first and waits for its messages in flight before it stops launching or writes the ready file', async () => {
    const intake = new HeldIntake();
    const { app, config, gate } = await start({}, { extraImports: [globalIntake(intake)] });
    const ready = join(config.runDir, 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN');
    const seen = track(gate);

    void gate.requestShutdown('test');
    await eventually('the intake to be told to drain', async () => (intake.drainCalls > 0 ? true : undefined));
    // A message still being handled may decide a launch: launching stays open until the intake has drained.
    expect(app.get(JobLaunchService).isDraining).toBe(false);
    expect(seen.outcome).toBeUndefined();
    expect(existsSync(ready)).toBe(false);

    intake.finishInFlight();
    expect(await gate.whenReady()).toEqual({ mode: 'drain', handedOver: 0 });
    expect(existsSync(ready)).toBe(true);
    expect(intake.drainCalls).toBe(1);
  });

  it.each([
    ['"TRUE" (wrong case)', 'TRUE\n'],
    ['half-written ("tr")', 'tr'],
    ['empty (truncated, not yet written)', ''],
    ['"yes"', 'yes\n'],
  ])('does not start draining while the shutting-down flag is %s', async (_label, content) => {
    const { app, config, gate } = await start();
    const flagPath = join(config.runDir, 'IS_CONDUCTOR_SHUTTING_DOWN');
    await writeFile(flagPath, content);
    expect(await app.get(ShutdownFlagFiles).isShuttingDown()).toBe(false);
    // Several polls see the file, and none starts the drain.
    await watchFlagPolls(app, gate)(3);
    expect(gate.isDraining).toBe(false);

    // The poll still runs: the finished write does start it.
    await writeFile(flagPath, 'true\n');
    await eventually('the gate to start draining', async () => (gate.isDraining ? true : undefined));
  });
});
