import { launchClientToken } from '@agent-conductor/aws';
import type { PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConductorConfig, type ConductorConfig } from '../src/config/env.validators';
import { JobLaunchService } from '../src/launch/job-launch.service';
import { WORKER_LAUNCHER, type WorkerLauncher } from '../src/launch/worker-launcher';
import { OrphanMonitorService } from '../src/orphans/orphan-monitor.service';
import { startDurableConductor } from './support/durable-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';

const ECS_VARS = {
  NODE_ENV: 'test',
  WORKER_LAUNCHER: 'ecs',
  ECS_CLUSTER: 'agents',
  ECS_TASK_DEFINITION: 'agent-conductor-worker:7',
  ECS_CONTAINER_NAME: 'worker',
  ECS_SUBNETS: 'subnet-a,subnet-b',
  ECS_SECURITY_GROUPS: 'sg-workers',
  ECS_ASSIGN_PUBLIC_IP: 'false',
} as const;
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/agents/0123456789abcdef';

describe('WORKER_LAUNCHER=ecs', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  const ecs = mockClient(ECSClient);

  async function start(overrides: Partial<ConductorConfig> = {}): Promise<INestApplication> {
    const fromEnv = loadConductorConfig(ECS_VARS);
    app = await startDurableConductor(
      await testConfig({
        workerLauncher: 'ecs',
        ...(fromEnv.ecs ? { ecs: fromEnv.ecs } : {}),
        grpcDialAddr: 'conductor.internal:50051',
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        orphanCheckIntervalMs: 3_600_000,
        ...overrides,
      }),
    );
    return app;
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    ecs.reset();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    ecs.restore();
    await prisma.$disconnect();
  });

  it('is validated at boot: ecs needs its ECS_* variables', () => {
    expect(() => loadConductorConfig({ WORKER_LAUNCHER: 'ecs' })).toThrow(/WORKER_LAUNCHER: ecs needs .*ECS_CLUSTER is required/);
    expect(loadConductorConfig(ECS_VARS).ecs).toMatchObject({ cluster: 'agents', subnets: ['subnet-a', 'subnet-b'], assignPublicIp: false });
  });

  it('launches a Fargate task with the attempt as clientToken, startedBy and the worker overrides', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
    const app = await start();
    expect(app.get<WorkerLauncher>(WORKER_LAUNCHER).kind).toBe('ecs');
    const job = await createPendingJob(prisma);
    const outcome = await app.get(JobLaunchService).launch(job.id);
    expect(outcome).toMatchObject({ status: 'launched', handle: TASK_ARN });
    if (outcome.status !== 'launched') throw new Error('not launched');

    const calls = ecs.commandCalls(RunTaskCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toMatchObject({
      cluster: 'agents',
      taskDefinition: 'agent-conductor-worker:7',
      launchType: 'FARGATE',
      clientToken: launchClientToken(job.id, 1),
      startedBy: 'agent-conductor',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-workers'], assignPublicIp: 'DISABLED' } },
    });
    const environment = input?.overrides?.containerOverrides?.[0]?.environment ?? [];
    expect(input?.overrides?.containerOverrides?.[0]?.name).toBe('worker');
    // Only what the container needs: no local work dir, no agent command of the conductor's machine.
    expect(environment.map((variable) => variable.name)).toEqual(['CONDUCTOR_GRPC_SERVER_ADDR', 'WORKER_ID', 'WORKER_TOKEN']);
    expect(environment.find((variable) => variable.name === 'CONDUCTOR_GRPC_SERVER_ADDR')?.value).toBe('conductor.internal:50051');
    expect(environment.find((variable) => variable.name === 'WORKER_ID')?.value).toBe(outcome.workerId);
    expect(input?.tags).toEqual(expect.arrayContaining([{ key: 'agent-conductor:job-id', value: job.id }]));
    expect(await prisma.worker.findUniqueOrThrow({ where: { id: outcome.workerId } })).toMatchObject({ launcher: 'ecs', launcherHandle: TASK_ARN, attempt: 1 });
  });

  it("launches the task definition the job's route names (its worker image)", async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }], failures: [] });
    const app = await start();
    const routed = await createPendingJob(prisma, { workerTaskDefinition: 'agent-worker-node22' });
    const plain = await createPendingJob(prisma, { repository: 'https://github.com/acme/billing.git' });
    // Two repositories: one admission round launches both.
    const launches = app.get(JobLaunchService);
    const [routedOutcome, plainOutcome] = await Promise.all([launches.launch(routed.id), launches.launch(plain.id)]);
    expect([routedOutcome.status, plainOutcome.status]).toEqual(['launched', 'launched']);
    const inputs = ecs.commandCalls(RunTaskCommand).map((call) => call.args[0].input);
    // The two launches run side by side, so their RunTask calls may come in either order.
    expect(inputs.map((input) => [input.clientToken, input.taskDefinition]).sort()).toEqual(
      [
        [launchClientToken(routed.id, 1), 'agent-worker-node22'],
        [launchClientToken(plain.id, 1), 'agent-conductor-worker:7'],
      ].sort(),
    );
    // The rest of the request is the same for every route: cluster, network, the worker container's overrides.
    expect(inputs[0]).toMatchObject({ cluster: 'agents', launchType: 'FARGATE', overrides: { containerOverrides: [{ name: 'worker' }] } });
  });

  it('stops the task with StopTask when the handshake deadline passes, and retries the job', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(StopTaskCommand).resolves({});
    const app = await start({ handshakeDeadlineMs: 100 });
    const job = await createPendingJob(prisma);
    await app.get(JobLaunchService).launch(job.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await app.get(OrphanMonitorService).check();
    const stops = ecs.commandCalls(StopTaskCommand);
    expect(stops.map((call) => call.args[0].input)).toEqual([{ cluster: 'agents', task: TASK_ARN, reason: 'no handshake within 100 ms' }]);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'pending', attempts: 1, error: 'no handshake within 100 ms' });
  });

  it('retries a transient RunTask failure and fails the job on a permanent one', async () => {
    ecs.on(RunTaskCommand).resolvesOnce({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] }).resolves({ tasks: [], failures: [{ reason: 'MISSING' }] });
    const app = await start();
    const job = await createPendingJob(prisma);
    expect(await app.get(JobLaunchService).launch(job.id)).toMatchObject({ status: 'failed', next: 'retrying' });
    await prisma.job.update({ where: { id: job.id }, data: { nextAttemptAt: new Date(Date.now() - 1) } });
    expect(await app.get(JobLaunchService).launch(job.id)).toMatchObject({ status: 'failed', next: 'failed' });
    const calls = ecs.commandCalls(RunTaskCommand).map((call) => call.args[0].input.clientToken);
    expect(calls).toEqual([launchClientToken(job.id, 1), launchClientToken(job.id, 2)]);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('asks DescribeTasks about a silent worker and retries when the task has stopped', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stoppedReason: 'Essential container exited' }] });
    const app = await start({ heartbeatTimeoutMs: 1000 });
    const job = await createPendingJob(prisma);
    const outcome = await app.get(JobLaunchService).launch(job.id);
    if (outcome.status !== 'launched') throw new Error('not launched');
    await prisma.worker.update({ where: { id: outcome.workerId }, data: { state: 'connected', handshakeAt: new Date(), lastEventAt: new Date(Date.now() - 5000) } });
    await app.get(OrphanMonitorService).check();
    expect(ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input)).toEqual([{ cluster: 'agents', tasks: [TASK_ARN] }]);
    const worker = await prisma.worker.findUniqueOrThrow({ where: { id: outcome.workerId } });
    expect(worker.endReason).toMatch(/^heartbeat lost for \d+ ms and the ecs worker is gone$/);
    expect(await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: 'pending' });
  });
});
