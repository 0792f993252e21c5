import { InvalidDevStackEnvError, loadDevStackConfig } from './env.validators';

describe('loadDevStackConfig', () => {
  it('defaults to the ports the apps and the CLIs assume, and starts its own Postgres and SQS', () => {
    expect(loadDevStackConfig({})).toEqual({
      postgresPort: 54329,
      sqsPort: 9324,
      schedulerGrpcListenAddr: '127.0.0.1:50052',
      schedulerHttpPort: 8081,
      conductorHttpPort: 8080,
      readyTimeoutMs: 120_000,
      stopGraceMs: 10_000,
    });
  });

  it('takes a database and a queue from the environment, and treats empty as unset', () => {
    const config = loadDevStackConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/ac', SQS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/q', DEV_POSTGRES_PORT: '' });
    expect(config).toMatchObject({ databaseUrl: 'postgresql://u:p@db:5432/ac', queueUrl: 'http://127.0.0.1:9324/000000000000/q', postgresPort: 54329 });
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadDevStackConfig({ DEV_POSTGRES_PORT: '70000', DEV_SQS_PORT: 'x', SCHEDULER_GRPC_LISTEN_ADDR: 'nowhere', DATABASE_URL: 'mysql://db', DEV_STACK_STOP_GRACE_MS: '5' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidDevStackEnvError);
    expect((error as InvalidDevStackEnvError).problems).toEqual([
      'DATABASE_URL: must be a postgresql:// URL',
      'DEV_POSTGRES_PORT: must be a port from 1 to 65535',
      'DEV_SQS_PORT: must be a port number',
      'SCHEDULER_GRPC_LISTEN_ADDR: must be host:port, e.g. 127.0.0.1:50052',
      'DEV_STACK_STOP_GRACE_MS: must be at least 1000 ms',
    ]);
  });
});
