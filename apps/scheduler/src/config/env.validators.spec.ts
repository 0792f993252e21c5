import { ConfigError, DEV_DATABASE_URL, loadSchedulerConfig } from './env.validators';

describe('loadSchedulerConfig', () => {
  it('falls back to the dev stack outside production', () => {
    expect(loadSchedulerConfig({}, '/work/ws')).toEqual({
      production: false,
      databaseUrl: DEV_DATABASE_URL,
      dbConnectTimeoutMs: 30000,
      grpcListenAddr: '127.0.0.1:50052',
      defaultRepositoryUrl: '/work/ws/.dev/remote/sample-app.git',
      defaultRepositoryBranch: 'main',
      incidentPolicy: { windowMs: 60 * 60_000, capMs: 24 * 3_600_000 },
      followUpPolicy: { mention: '@agent', systemLogins: [] },
    });
  });

  it('takes every variable from the environment', () => {
    expect(
      loadSchedulerConfig(
        {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgresql://u:p@db:5432/ac',
          DB_CONNECT_TIMEOUT_MS: '5000',
          SCHEDULER_GRPC_LISTEN_ADDR: '0.0.0.0:6000',
          DEFAULT_REPOSITORY_URL: 'git@github.com:acme/app.git',
          DEFAULT_REPOSITORY_BRANCH: 'trunk',
          INCIDENT_WINDOW_MINUTES: '15',
          INCIDENT_CAP_HOURS: '6',
          FOLLOW_UP_MENTION: '@conductor',
          FOLLOW_UP_SYSTEM_LOGINS: 'agent-conductor[bot], ci-bot',
        },
        '/work/ws',
      ),
    ).toEqual({
      production: true,
      databaseUrl: 'postgresql://u:p@db:5432/ac',
      dbConnectTimeoutMs: 5000,
      grpcListenAddr: '0.0.0.0:6000',
      defaultRepositoryUrl: 'git@github.com:acme/app.git',
      defaultRepositoryBranch: 'trunk',
      incidentPolicy: { windowMs: 15 * 60_000, capMs: 6 * 3_600_000 },
      followUpPolicy: { mention: '@conductor', systemLogins: ['agent-conductor[bot]', 'ci-bot'] },
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
    expect(message).toContain('DEFAULT_REPOSITORY_URL: is required when NODE_ENV=production (unless ROUTING_FILE is set)');
    expect(message).toContain('SCHEDULER_GRPC_LISTEN_ADDR: must be host:port');
  });

  it('rejects a DATABASE_URL that is not a Postgres URL', () => {
    expect(() => loadSchedulerConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/);
  });

  it('treats empty incident variables as unset', () => {
    expect(loadSchedulerConfig({ INCIDENT_WINDOW_MINUTES: '', INCIDENT_CAP_HOURS: '' }).incidentPolicy).toEqual({
      windowMs: 3_600_000,
      capMs: 86_400_000,
    });
  });

  it.each([
    [{ INCIDENT_WINDOW_MINUTES: 'sixty' }, 'INCIDENT_WINDOW_MINUTES: must be a whole number of minutes'],
    [{ INCIDENT_WINDOW_MINUTES: '1.5' }, 'INCIDENT_WINDOW_MINUTES: must be a whole number of minutes'],
    [{ INCIDENT_WINDOW_MINUTES: '0' }, 'INCIDENT_WINDOW_MINUTES: must be at least 1 minute'],
    [{ INCIDENT_WINDOW_MINUTES: '-5' }, 'INCIDENT_WINDOW_MINUTES: must be a whole number of minutes'],
    [{ INCIDENT_CAP_HOURS: '0' }, 'INCIDENT_CAP_HOURS: must be at least 1 hour'],
    [{ INCIDENT_CAP_HOURS: '100000' }, 'INCIDENT_CAP_HOURS: must be at most 720 hours'],
    [{ INCIDENT_WINDOW_MINUTES: '180', INCIDENT_CAP_HOURS: '2' }, 'INCIDENT_CAP_HOURS: must not be shorter than INCIDENT_WINDOW_MINUTES'],
  ])('refuses %j at boot', (env, message) => {
    expect(() => loadSchedulerConfig(env)).toThrow(message);
  });

  it('reports bad incident variables together with the others', () => {
    expect(() => loadSchedulerConfig({ INCIDENT_WINDOW_MINUTES: 'x', INCIDENT_CAP_HOURS: 'y', DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL[\s\S]*INCIDENT_WINDOW_MINUTES[\s\S]*INCIDENT_CAP_HOURS/,
    );
  });

  it('refuses a follow-up mention with spaces and a login list GitHub could not have', () => {
    expect(() => loadSchedulerConfig({ FOLLOW_UP_MENTION: '@my agent' })).toThrow(/FOLLOW_UP_MENTION: must be one word/);
    expect(() => loadSchedulerConfig({ FOLLOW_UP_SYSTEM_LOGINS: 'agent-conductor[bot];ci bot' })).toThrow(/FOLLOW_UP_SYSTEM_LOGINS\.0: must list GitHub logins/);
    expect(loadSchedulerConfig({ FOLLOW_UP_MENTION: '', FOLLOW_UP_SYSTEM_LOGINS: ' , ' }).followUpPolicy).toEqual({ mention: '@agent', systemLogins: [] });
  });
});
