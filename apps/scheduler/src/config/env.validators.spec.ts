import { ConfigError, DEV_DATABASE_URL, loadSchedulerConfig } from './env.validators';

describe('loadSchedulerConfig', () => {
  it('falls back to the dev stack outside production', () => {
    expect(loadSchedulerConfig({}, '/work/ws')).toEqual({
      production: false,
      databaseUrl: DEV_DATABASE_URL,
      grpcListenAddr: '127.0.0.1:50052',
      defaultRepositoryUrl: '/work/ws/.dev/remote/sample-app.git',
      defaultRepositoryBranch: 'main',
    });
  });

  it('takes every variable from the environment', () => {
    expect(
      loadSchedulerConfig(
        {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgresql://u:p@db:5432/ac',
          SCHEDULER_GRPC_LISTEN_ADDR: '0.0.0.0:6000',
          DEFAULT_REPOSITORY_URL: 'git@github.com:acme/app.git',
          DEFAULT_REPOSITORY_BRANCH: 'trunk',
        },
        '/work/ws',
      ),
    ).toEqual({
      production: true,
      databaseUrl: 'postgresql://u:p@db:5432/ac',
      grpcListenAddr: '0.0.0.0:6000',
      defaultRepositoryUrl: 'git@github.com:acme/app.git',
      defaultRepositoryBranch: 'trunk',
    });
  });

  it('makes a relative repository path absolute against the workspace', () => {
    expect(loadSchedulerConfig({ DEFAULT_REPOSITORY_URL: 'repos/app.git' }, '/work/ws').defaultRepositoryUrl).toBe('/work/ws/repos/app.git');
    expect(loadSchedulerConfig({ DEFAULT_REPOSITORY_URL: 'https://github.com/a/b.git' }, '/w').defaultRepositoryUrl).toBe(
      'https://github.com/a/b.git',
    );
  });

  it('requires the database and repository in production and lists every problem at once', () => {
    let error: unknown;
    try {
      loadSchedulerConfig({ NODE_ENV: 'production', DATABASE_URL: '', SCHEDULER_GRPC_LISTEN_ADDR: 'no-port' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('DATABASE_URL: is required when NODE_ENV=production');
    expect(message).toContain('DEFAULT_REPOSITORY_URL: is required when NODE_ENV=production');
    expect(message).toContain('SCHEDULER_GRPC_LISTEN_ADDR: must be host:port');
  });

  it('rejects a DATABASE_URL that is not a Postgres URL', () => {
    expect(() => loadSchedulerConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/);
  });
});
