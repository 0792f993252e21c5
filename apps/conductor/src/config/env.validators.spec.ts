import { InvalidConductorEnvError, loadConductorConfig } from './env.validators';

describe('loadConductorConfig', () => {
  it('fills in the local dev stack', () => {
    const config = loadConductorConfig({}, '/ws');
    expect(config).toMatchObject({
      schedulerGrpcAddr: '127.0.0.1:50052',
      sqsQueueUrl: 'http://127.0.0.1:9324/000000000000/agent-conductor-intake',
      sqsEndpoint: 'http://127.0.0.1:9324',
      grpcListenAddr: '127.0.0.1:50051',
      grpcDialAddr: '127.0.0.1:50051',
      httpPort: 8080,
      runDir: '/ws/.dev/conductor',
      resultsDir: '/ws/.dev/results',
      workerCommand: 'node /ws/dist/apps/worker/main.js',
      workerAgentCommand: 'bash /ws/tools/demo-agent/demo-agent.sh',
      workerWorkRoot: '/ws/.dev/conductor/workers',
      workerLauncher: 'local',
      workerSpoolDir: '/ws/.dev/conductor/spool',
      maxUploadBytes: 512 * 1024 * 1024,
      pendingSweepIntervalMs: 5000,
      workerHeartbeatIntervalMs: 10000,
    });
  });

  it('lists every bad variable at once', () => {
    const load = (): unknown =>
      loadConductorConfig({ CONDUCTOR_HTTP_PORT: 'eighty', MAX_UPLOAD_BYTES: '-1', SCHEDULER_GRPC_ADDR: 'nowhere', WORKER_LAUNCHER: 'ecs2' });
    expect(load).toThrow(InvalidConductorEnvError);
    try {
      load();
    } catch (error) {
      const problems = (error as InvalidConductorEnvError).problems.map((problem) => problem.split(':')[0]);
      expect(problems.sort()).toEqual(['CONDUCTOR_HTTP_PORT', 'MAX_UPLOAD_BYTES', 'SCHEDULER_GRPC_ADDR', 'WORKER_LAUNCHER']);
    }
  });

  it('requires DATABASE_URL and SQS_QUEUE_URL in production, and uses real SQS there', () => {
    expect(() => loadConductorConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL[\s\S]*SQS_QUEUE_URL/);
    const config = loadConductorConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', SQS_QUEUE_URL: 'https://sqs.example/q' });
    expect(config.sqsEndpoint).toBeUndefined();
    expect(config.databaseUrl).toBe('postgresql://db/x');
  });

  it('admits 10 jobs at once and 1 per repository by default, and takes MAX_ACTIVE_JOBS and REPO_MAX_ACTIVE_JOBS', () => {
    expect(loadConductorConfig({})).toMatchObject({ maxActiveJobs: 10, repoMaxActiveJobs: 1 });
    expect(loadConductorConfig({ MAX_ACTIVE_JOBS: '40', REPO_MAX_ACTIVE_JOBS: '3' })).toMatchObject({ maxActiveJobs: 40, repoMaxActiveJobs: 3 });
    expect(() => loadConductorConfig({ MAX_ACTIVE_JOBS: '0' })).toThrow(/MAX_ACTIVE_JOBS/);
    expect(() => loadConductorConfig({ REPO_MAX_ACTIVE_JOBS: '1.5' })).toThrow(/REPO_MAX_ACTIVE_JOBS/);
    expect(() => loadConductorConfig({ REPO_MAX_ACTIVE_JOBS: 'one' })).toThrow(/REPO_MAX_ACTIVE_JOBS/);
  });

  it('accepts the spool launcher outside production only', () => {
    const config = loadConductorConfig({ WORKER_LAUNCHER: 'spool', WORKER_SPOOL_DIR: 'bench/spool' }, '/ws');
    expect(config).toMatchObject({ workerLauncher: 'spool', workerSpoolDir: '/ws/bench/spool' });
    expect(() =>
      loadConductorConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', SQS_QUEUE_URL: 'https://sqs.example/q', WORKER_LAUNCHER: 'spool' }),
    ).toThrow(/WORKER_LAUNCHER: spool is for benchmarks/);
  });
});
