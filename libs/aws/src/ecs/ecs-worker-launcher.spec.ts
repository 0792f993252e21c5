import {
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  RunTaskCommand,
  ServerException,
  StopTaskCommand,
  ClusterNotFoundException,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEcsClient } from './ecs-client';
import { ecsLauncherConfigFromEnv } from './ecs-env';
import { EcsWorkerLauncher, LaunchFailedError, launchClientToken, type EcsLauncherConfig, type WorkerLaunchSpec } from './ecs-worker-launcher';

const TOKEN = 'wt_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const JOB_ID = '3f1c2a9e-7b4d-4e0a-9c1b-2d3e4f5a6b7c';
const WORKER_ID = '8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d';
const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/agents/0123456789abcdef0123456789abcdef';

const config: EcsLauncherConfig = {
  cluster: 'agents',
  taskDefinition: 'agent-worker:7',
  containerName: 'worker',
  subnets: ['subnet-a', 'subnet-b'],
  securityGroups: ['sg-worker'],
  assignPublicIp: false,
};

const spec: WorkerLaunchSpec = {
  workerId: WORKER_ID,
  jobId: JOB_ID,
  attempt: 2,
  env: { WORKER_TOKEN: TOKEN, WORKER_ID, CONDUCTOR_GRPC_SERVER_ADDR: 'conductor.internal:50051' },
};

async function launchError(promise: Promise<unknown>): Promise<LaunchFailedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LaunchFailedError) return error;
    throw error;
  }
  throw new Error('expected the launch to fail');
}

describe('EcsWorkerLauncher with a mocked ECS client', () => {
  const ecs = new ECSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const ecsMock = mockClient(ecs);
  const launcher = new EcsWorkerLauncher(ecs, config);

  beforeEach(() => ecsMock.reset());
  afterAll(() => ecsMock.restore());

  it('sends one exact RunTask request and returns the task ARN as the handle', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'PROVISIONING' }], failures: [] });

    await expect(launcher.launch(spec)).resolves.toEqual({ handle: TASK_ARN });

    const calls = ecsMock.commandCalls(RunTaskCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      cluster: 'agents',
      taskDefinition: 'agent-worker:7',
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-worker'], assignPublicIp: 'DISABLED' } },
      overrides: {
        containerOverrides: [
          {
            name: 'worker',
            environment: [
              { name: 'CONDUCTOR_GRPC_SERVER_ADDR', value: 'conductor.internal:50051' },
              { name: 'WORKER_ID', value: WORKER_ID },
              { name: 'WORKER_TOKEN', value: TOKEN },
            ],
          },
        ],
      },
      clientToken: `${JOB_ID}.2`,
      startedBy: 'agent-conductor',
      enableExecuteCommand: false,
      tags: [
        { key: 'agent-conductor:job-id', value: JOB_ID },
        { key: 'agent-conductor:worker-id', value: WORKER_ID },
        { key: 'agent-conductor:attempt', value: '2' },
      ],
    });
  });

  it('passes public IP, startedBy and execute-command settings through', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    const custom = new EcsWorkerLauncher(ecs, { ...config, assignPublicIp: true, startedBy: 'conductor-blue', enableExecuteCommand: true });

    await custom.launch(spec);

    const input = ecsMock.commandCalls(RunTaskCommand)[0]?.args[0].input;
    expect(input?.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('ENABLED');
    expect(input?.startedBy).toBe('conductor-blue');
    expect(input?.enableExecuteCommand).toBe(true);
  });

  it('keeps the worker token out of everything but the container environment', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    await launcher.launch(spec);

    const input = ecsMock.commandCalls(RunTaskCommand)[0]?.args[0].input;
    const { overrides, ...rest } = input ?? {};
    expect(JSON.stringify(overrides)).toContain(TOKEN);
    expect(JSON.stringify(rest)).not.toContain(TOKEN);
    expect(JSON.stringify(rest)).not.toContain('wt_');
  });

  it('derives a stable clientToken per job attempt, within the 64 printable characters ECS accepts', () => {
    expect(launchClientToken(JOB_ID, 1)).toBe(launchClientToken(JOB_ID, 1));
    expect(launchClientToken(JOB_ID, 1)).not.toBe(launchClientToken(JOB_ID, 2));
    const long = 'j'.repeat(80);
    const hashed = launchClientToken(long, 1);
    expect(hashed).toMatch(/^[0-9a-f]{64}$/);
    expect(hashed).not.toBe(launchClientToken(long, 2));
    expect(launchClientToken('job with spaces', 3)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sends the same parameters when a job attempt is launched again, so ECS can deduplicate it', async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    await launcher.launch(spec);
    // Same variables inserted in another order, as a restarted conductor might build them.
    await launcher.launch({ ...spec, env: { CONDUCTOR_GRPC_SERVER_ADDR: 'conductor.internal:50051', WORKER_ID, WORKER_TOKEN: TOKEN } });

    const [first, second] = ecsMock.commandCalls(RunTaskCommand).map((call) => call.args[0].input);
    expect(second).toEqual(first);
  });

  it.each([
    ['RESOURCE:MEMORY', true],
    ['RESOURCE:ENI', true],
    ['AGENT', true],
    ['Capacity is unavailable at this time. Please try again later or in a different availability zone', true],
    ['MISSING', false],
    ['ATTRIBUTE', false],
  ])('turns a RunTask failure %s into LaunchFailedError(retryable=%s)', async (reason, retryable) => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/x', reason, detail: 'd' }] });

    const error = await launchError(launcher.launch(spec));
    expect(error.retryable).toBe(retryable);
    expect(error.reason).toContain(reason);
    expect(error.reason).toContain('(d)');
  });

  it('fails permanently when any failure is permanent', async () => {
    ecsMock.on(RunTaskCommand).resolves({ failures: [{ reason: 'AGENT' }, { reason: 'MISSING' }] });
    const error = await launchError(launcher.launch(spec));
    expect(error.retryable).toBe(false);
  });

  it('treats a response with neither task nor failure as a retryable launch failure', async () => {
    ecsMock.on(RunTaskCommand).resolves({});
    const error = await launchError(launcher.launch(spec));
    expect(error.retryable).toBe(true);
    expect(error.reason).toMatch(/neither a task nor a failure/);
  });

  it('classifies SDK exceptions: bad configuration is permanent, server errors are retryable', async () => {
    ecsMock.on(RunTaskCommand).rejectsOnce(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));
    const permanent = await launchError(launcher.launch(spec));
    expect(permanent.retryable).toBe(false);
    expect(permanent.reason).toBe('ClusterNotFoundException: Cluster not found.');

    ecsMock.on(RunTaskCommand).rejectsOnce(new ServerException({ message: 'internal', $metadata: {} }));
    const transient = await launchError(launcher.launch(spec));
    expect(transient.retryable).toBe(true);
  });

  it('redacts the worker token when ECS quotes it back in an error or a failure', async () => {
    ecsMock
      .on(RunTaskCommand)
      .rejectsOnce(new InvalidParameterException({ message: `Invalid environment value ${TOKEN} for WORKER_TOKEN`, $metadata: {} }))
      .resolvesOnce({ failures: [{ reason: 'RESOURCE:MEMORY', detail: `override ${TOKEN}` }] });

    for (const expectedRetryable of [false, true]) {
      const error = await launchError(launcher.launch(spec));
      expect(error.retryable).toBe(expectedRetryable);
      expect(error.reason).toContain('[redacted]');
      expect(error.reason).not.toContain(TOKEN);
      expect(error.message).not.toContain(TOKEN);
      expect(String(error.stack)).not.toContain(TOKEN);
    }
  });

  it("uses the launch's task definition (a route's worker image) instead of the configured one", async () => {
    ecsMock.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN }] });
    await launcher.launch({ ...spec, taskDefinition: 'agent-worker-node22' });
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/agent-worker-node22:3';
    await launcher.launch({ ...spec, taskDefinition: arn });
    await launcher.launch(spec);
    expect(ecsMock.commandCalls(RunTaskCommand).map((call) => call.args[0].input.taskDefinition)).toEqual(['agent-worker-node22', arn, 'agent-worker:7']);
  });

  it('refuses a task definition that is not a family, family:revision or ARN, before calling ECS', async () => {
    const error = await launchError(launcher.launch({ ...spec, taskDefinition: 'worker image:latest' }));
    expect(error.retryable).toBe(false);
    expect(error.reason).toMatch(/is not a family, family:revision or ARN/);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
  });

  it('rejects ids that cannot be tag values, before calling ECS', async () => {
    const error = await launchError(launcher.launch({ ...spec, jobId: '../etc' }));
    expect(error.retryable).toBe(false);
    await expect(launcher.launch({ ...spec, attempt: 0 })).rejects.toBeInstanceOf(LaunchFailedError);
    expect(ecsMock.commandCalls(RunTaskCommand)).toHaveLength(0);
  });

  it('refuses an unusable config', () => {
    expect(() => new EcsWorkerLauncher(ecs, { ...config, subnets: [] })).toThrow(/subnets/);
    expect(() => new EcsWorkerLauncher(ecs, { ...config, startedBy: 'has spaces' })).toThrow(/startedBy/);
  });

  describe('stop', () => {
    it('sends StopTask with the cluster, task and reason', async () => {
      ecsMock.on(StopTaskCommand).resolves({ task: { taskArn: TASK_ARN, desiredStatus: 'STOPPED' } });
      await launcher.stop(TASK_ARN, 'handshake deadline missed');
      expect(ecsMock.commandCalls(StopTaskCommand).map((call) => call.args[0].input)).toEqual([
        { cluster: 'agents', task: TASK_ARN, reason: 'handshake deadline missed' },
      ]);
    });

    it('truncates the reason to the 255 characters ECS accepts', async () => {
      ecsMock.on(StopTaskCommand).resolves({});
      await launcher.stop(TASK_ARN, 'x'.repeat(300));
      expect(ecsMock.commandCalls(StopTaskCommand)[0]?.args[0].input.reason).toHaveLength(255);
    });

    it('tolerates a task ECS no longer knows', async () => {
      ecsMock.on(StopTaskCommand).rejects(new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }));
      await expect(launcher.stop(TASK_ARN, 'orphan')).resolves.toBeUndefined();
    });

    it('propagates other errors', async () => {
      ecsMock.on(StopTaskCommand).rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));
      await expect(launcher.stop(TASK_ARN, 'orphan')).rejects.toThrow('Cluster not found.');
    });
  });

  describe('describe', () => {
    it('sends DescribeTasks for the handle and maps a running task', async () => {
      ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }] });
      await expect(launcher.describe(TASK_ARN)).resolves.toEqual({ state: 'running' });
      await expect(launcher.isAlive(TASK_ARN)).resolves.toBe(true);
      expect(ecsMock.commandCalls(DescribeTasksCommand)[0]?.args[0].input).toEqual({ cluster: 'agents', tasks: [TASK_ARN] });
    });

    it.each([
      ['PROVISIONING', 'RUNNING', 'pending'],
      ['PENDING', 'RUNNING', 'pending'],
      ['ACTIVATING', 'RUNNING', 'pending'],
      ['RUNNING', 'STOPPED', 'stopped'],
      ['DEPROVISIONING', 'STOPPED', 'stopped'],
    ])('maps lastStatus %s / desiredStatus %s to %s', async (lastStatus, desiredStatus, state) => {
      ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus, desiredStatus }] });
      expect((await launcher.describe(TASK_ARN)).state).toBe(state);
    });

    it("reports a stopped task's reason and the worker container's exit code", async () => {
      ecsMock.on(DescribeTasksCommand).resolves({
        tasks: [
          {
            taskArn: TASK_ARN,
            lastStatus: 'STOPPED',
            desiredStatus: 'STOPPED',
            stoppedReason: 'Essential container in task exited',
            containers: [
              { name: 'log-router', exitCode: 0 },
              { name: 'worker', exitCode: 137 },
            ],
          },
        ],
      });
      await expect(launcher.describe(TASK_ARN)).resolves.toEqual({ state: 'stopped', stoppedReason: 'Essential container in task exited', exitCode: 137 });
      await expect(launcher.isAlive(TASK_ARN)).resolves.toBe(false);
    });

    it('reports a task ECS has forgotten as missing', async () => {
      ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: TASK_ARN, reason: 'MISSING' }] });
      await expect(launcher.describe(TASK_ARN)).resolves.toEqual({ state: 'missing' });
    });

    it('throws on any other DescribeTasks failure rather than guessing', async () => {
      ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: TASK_ARN, reason: 'ACCESS_DENIED' }] });
      await expect(launcher.describe(TASK_ARN)).rejects.toThrow(/ACCESS_DENIED/);
    });
  });
});

/**
 * aws-sdk-client-mock replaces `send`, so the SDK's retry middleware never runs under it. A loopback endpoint
 * speaking ECS's JSON protocol lets the real client retry.
 */
describe('EcsWorkerLauncher through the real SDK retry strategy', () => {
  interface Seen {
    target: string | undefined;
    body: { clientToken?: string };
  }
  let server: Server;
  let endpoint: string;
  let seen: Seen[];
  let responses: Array<{ status: number; body: unknown }>;

  const readBody = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      void readBody(request).then((text) => {
        seen.push({ target: request.headers['x-amz-target'] as string | undefined, body: JSON.parse(text) as Seen['body'] });
        const next = responses.shift() ?? { status: 500, body: { __type: 'ServerException', message: 'no scripted response' } };
        response.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(next.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    seen = [];
    responses = [];
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
  const client = (maxAttempts: number): ECSClient =>
    createEcsClient({ region: 'eu-west-1', endpoint, maxAttempts, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  it('retries a throttled RunTask with the same clientToken and succeeds', async () => {
    responses = [throttled, { status: 200, body: { tasks: [{ taskArn: TASK_ARN }], failures: [] } }];
    const launcher = new EcsWorkerLauncher(client(3), config);

    await expect(launcher.launch(spec)).resolves.toEqual({ handle: TASK_ARN });

    expect(seen.map((request) => request.target)).toEqual(['AmazonEC2ContainerServiceV20141113.RunTask', 'AmazonEC2ContainerServiceV20141113.RunTask']);
    expect(seen.map((request) => request.body.clientToken)).toEqual([`${JOB_ID}.2`, `${JOB_ID}.2`]);
  });

  it('gives up after maxAttempts with a retryable LaunchFailedError', async () => {
    responses = [throttled, throttled, throttled];
    const launcher = new EcsWorkerLauncher(client(2), config);

    const error = await launchError(launcher.launch(spec));
    expect(error.retryable).toBe(true);
    expect(error.reason).toBe('ThrottlingException: Rate exceeded');
    expect(seen).toHaveLength(2);
  });
});

describe('ecsLauncherConfigFromEnv', () => {
  it('builds the config from ECS_* variables', () => {
    expect(
      ecsLauncherConfigFromEnv({
        ECS_CLUSTER: 'agents',
        ECS_TASK_DEFINITION: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/agent-worker:7',
        ECS_CONTAINER_NAME: 'worker',
        ECS_SUBNETS: 'subnet-a, subnet-b,',
        ECS_SECURITY_GROUPS: 'sg-worker',
        ECS_ASSIGN_PUBLIC_IP: 'true',
        ECS_STARTED_BY: 'conductor-blue',
      }),
    ).toEqual({
      cluster: 'agents',
      taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/agent-worker:7',
      containerName: 'worker',
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-worker'],
      assignPublicIp: true,
      enableExecuteCommand: false,
      startedBy: 'conductor-blue',
    });
  });

  it('reports every problem at once', () => {
    expect(() => ecsLauncherConfigFromEnv({ ECS_ASSIGN_PUBLIC_IP: 'yes' })).toThrow(
      'invalid ECS launcher environment: ECS_CLUSTER is required; ECS_TASK_DEFINITION is required; ECS_CONTAINER_NAME is required; ECS_ASSIGN_PUBLIC_IP must be true or false; ECS_SUBNETS must list at least one subnet id',
    );
  });
});
