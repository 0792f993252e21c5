import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidConductorEnvError, loadConductorConfig, loadDbRolesConfig } from './env.validators';

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

  it('bounds the extracted results: retention, size, prune interval and free space, with defaults', () => {
    expect(loadConductorConfig({}, '/ws')).toMatchObject({
      resultsRetentionMs: 7 * 24 * 3_600_000,
      resultsMaxBytes: 20 * 1024 ** 3,
      resultsPruneIntervalMs: 600_000,
      resultsMinFreeBytes: 1024 ** 3,
    });
    expect(
      loadConductorConfig({ RESULTS_RETENTION_DAYS: '0.5', RESULTS_MAX_BYTES: '1000', RESULTS_PRUNE_INTERVAL_MS: '60000', RESULTS_MIN_FREE_BYTES: '0' }, '/ws'),
    ).toMatchObject({ resultsRetentionMs: 12 * 3_600_000, resultsMaxBytes: 1000, resultsPruneIntervalMs: 60_000, resultsMinFreeBytes: 0 });
    expect(() => loadConductorConfig({ RESULTS_RETENTION_DAYS: '0', RESULTS_MIN_FREE_BYTES: '-1' })).toThrow(/RESULTS_RETENTION_DAYS[\s\S]*RESULTS_MIN_FREE_BYTES/);
  });

  it('limits the age of an agent session a follow-up resumes: 72 hours unless FOLLOW_UP_SESSION_MAX_AGE_HOURS says', () => {
    expect(loadConductorConfig({}, '/ws').followUpSessionMaxAgeMs).toBe(72 * 3_600_000);
    expect(loadConductorConfig({ FOLLOW_UP_SESSION_MAX_AGE_HOURS: '1.5' }, '/ws').followUpSessionMaxAgeMs).toBe(90 * 60_000);
    expect(() => loadConductorConfig({ FOLLOW_UP_SESSION_MAX_AGE_HOURS: '0' }, '/ws')).toThrow(/FOLLOW_UP_SESSION_MAX_AGE_HOURS/);
  });

  it('finds the console next to the bundle unless CONSOLE_UI_DIR says where', () => {
    expect(loadConductorConfig({}, '/ws').consoleUiDir).toBe(resolve(__dirname, 'console'));
    expect(loadConductorConfig({ CONSOLE_UI_DIR: 'dist/apps/console-ui' }, '/ws').consoleUiDir).toBe('/ws/dist/apps/console-ui');
    expect(loadConductorConfig({ CONSOLE_UI_DIR: '/srv/console' }, '/ws').consoleUiDir).toBe('/srv/console');
  });

  it('serves plaintext gRPC by default, TLS from a PEM value or file, and wants the certificate and key together', () => {
    expect(loadConductorConfig({}, '/ws').grpcTls).toBeUndefined();
    const cert = '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----';
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
    const tls = loadConductorConfig({ CONDUCTOR_TLS_CERT: cert, CONDUCTOR_TLS_KEY: key }, '/ws').grpcTls;
    // Escaped newlines, as some secret stores keep PEM, become real ones.
    expect(tls?.certChain.toString()).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');
    expect(tls?.privateKey.toString()).toBe(key);
    expect(tls?.clientCa).toBeUndefined();
    expect(() => loadConductorConfig({ CONDUCTOR_TLS_CERT: cert })).toThrow(/CONDUCTOR_TLS_CERT: TLS needs both/);
    let message = '';
    try {
      loadConductorConfig({ CONDUCTOR_TLS_CERT: 'missing/server.pem', CONDUCTOR_TLS_KEY: key }, '/ws');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/CONDUCTOR_TLS_CERT: CONDUCTOR_TLS_CERT cannot be read from \/ws\/missing\/server\.pem \(ENOENT\)/);
    expect(message).not.toContain('MIIE');
  });

  it('reads the db-roles task: the admin URL from its parts, and two roles with long passwords, never echoing them', () => {
    const env = {
      DB_HOST: 'db.internal:5432',
      DB_NAME: 'agent_conductor',
      DB_ADMIN_USER: 'postgres',
      PGPASSWORD: 'p@ss/word#1',
      DB_MIGRATE_ROLE: 'agent_conductor_migrate',
      DB_MIGRATE_PASSWORD: 'm'.repeat(32),
      DB_APP_ROLE: 'agent_conductor_app',
      DB_APP_PASSWORD: 'a'.repeat(32),
    };
    expect(loadDbRolesConfig(env)).toEqual({
      adminUrl: 'postgresql://postgres:p%40ss%2Fword%231@db.internal:5432/agent_conductor?sslmode=no-verify',
      migrate: { name: 'agent_conductor_migrate', password: 'm'.repeat(32) },
      app: { name: 'agent_conductor_app', password: 'a'.repeat(32) },
    });
    let message = '';
    try {
      loadDbRolesConfig({ ...env, DB_APP_PASSWORD: 'short-secret', DB_HOST: 'nowhere' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DB_HOST[\s\S]*DB_APP_PASSWORD/);
    expect(message).not.toContain('short-secret');
  });

  it('admits 10 jobs at once and 1 per repository by default, and takes MAX_ACTIVE_JOBS and REPO_MAX_ACTIVE_JOBS', () => {
    expect(loadConductorConfig({})).toMatchObject({ maxActiveJobs: 10, repoMaxActiveJobs: 1 });
    expect(loadConductorConfig({ MAX_ACTIVE_JOBS: '40', REPO_MAX_ACTIVE_JOBS: '3' })).toMatchObject({ maxActiveJobs: 40, repoMaxActiveJobs: 3 });
    expect(() => loadConductorConfig({ MAX_ACTIVE_JOBS: '0' })).toThrow(/MAX_ACTIVE_JOBS/);
    expect(() => loadConductorConfig({ REPO_MAX_ACTIVE_JOBS: '1.5' })).toThrow(/REPO_MAX_ACTIVE_JOBS/);
    expect(() => loadConductorConfig({ REPO_MAX_ACTIVE_JOBS: 'one' })).toThrow(/REPO_MAX_ACTIVE_JOBS/);
  });

  it('gives a cancelled job 60 s to stop before the launcher kills it, takes CANCEL_GRACE_SECONDS (0 kills at once), and refuses a negative grace', () => {
    expect(loadConductorConfig({}, '/ws').cancelGraceMs).toBe(60_000);
    expect(loadConductorConfig({ CANCEL_GRACE_SECONDS: '5' }, '/ws').cancelGraceMs).toBe(5000);
    expect(loadConductorConfig({ CANCEL_GRACE_SECONDS: '0' }, '/ws').cancelGraceMs).toBe(0);
    expect(() => loadConductorConfig({ CANCEL_GRACE_SECONDS: '-1' }, '/ws')).toThrow(/CANCEL_GRACE_SECONDS/);
    expect(() => loadConductorConfig({ CANCEL_GRACE_SECONDS: 'soon' }, '/ws')).toThrow(/CANCEL_GRACE_SECONDS/);
  });

  it('holds 40 intake messages at once by default, and takes SQS_MAX_IN_FLIGHT from 1 to 1000', () => {
    expect(loadConductorConfig({}, '/ws').sqsMaxInFlight).toBe(40);
    expect(loadConductorConfig({ SQS_MAX_IN_FLIGHT: '5' }, '/ws').sqsMaxInFlight).toBe(5);
    expect(loadConductorConfig({ SQS_MAX_IN_FLIGHT: '1000' }, '/ws').sqsMaxInFlight).toBe(1000);
    expect(() => loadConductorConfig({ SQS_MAX_IN_FLIGHT: '0' }, '/ws')).toThrow(/SQS_MAX_IN_FLIGHT/);
    expect(() => loadConductorConfig({ SQS_MAX_IN_FLIGHT: '1001' }, '/ws')).toThrow(/SQS_MAX_IN_FLIGHT/);
    expect(() => loadConductorConfig({ SQS_MAX_IN_FLIGHT: 'many' }, '/ws')).toThrow(/SQS_MAX_IN_FLIGHT/);
  });

  it('accepts the spool launcher outside production only', () => {
    const config = loadConductorConfig({ WORKER_LAUNCHER: 'spool', WORKER_SPOOL_DIR: 'bench/spool' }, '/ws');
    expect(config).toMatchObject({ workerLauncher: 'spool', workerSpoolDir: '/ws/bench/spool' });
    expect(() =>
      loadConductorConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://db/x', SQS_QUEUE_URL: 'https://sqs.example/q', WORKER_LAUNCHER: 'spool' }),
    ).toThrow(/WORKER_LAUNCHER: spool is for benchmarks/);
  });
  it('turns the console off without a token, and takes a long token from the variable or a file', () => {
    expect(loadConductorConfig({}).consoleAuth).toEqual({ mode: 'token', token: undefined, sessionTtlMs: 12 * 3_600_000 });
    const token = 'c'.repeat(40);
    expect(loadConductorConfig({ CONSOLE_TOKEN: token, CONSOLE_SESSION_TTL_HOURS: '1' }).consoleAuth).toEqual({ mode: 'token', token, sessionTtlMs: 3_600_000 });
    const dir = mkdtempSync(join(tmpdir(), 'console-token-'));
    writeFileSync(join(dir, 'token'), `${token}\n`);
    expect(loadConductorConfig({ CONSOLE_TOKEN_FILE: 'token' }, dir).consoleAuth).toMatchObject({ token });
    const short = 'short-console-token';
    try {
      loadConductorConfig({ CONSOLE_TOKEN: short });
      throw new Error('a short token was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConductorEnvError);
      expect((error as Error).message).toMatch(/CONSOLE_TOKEN: must be at least 32 characters/);
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => loadConductorConfig({ CONSOLE_TOKEN: token, CONSOLE_TOKEN_FILE: 'token' }, dir)).toThrow(/not both/);
    expect(() => loadConductorConfig({ CONSOLE_TOKEN_FILE: 'missing' }, dir)).toThrow(/CONSOLE_TOKEN_FILE: cannot read it \(ENOENT\)/);
  });

  it('takes the ALB ARN in proxy mode, derives the key endpoint from its region, and refuses a token there', () => {
    const albArn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/console/50dc6c495c0c9188';
    expect(loadConductorConfig({ CONSOLE_AUTH: 'proxy', CONSOLE_PROXY_ALB_ARN: albArn }).consoleAuth).toEqual({
      mode: 'proxy',
      albArn,
      publicKeyUrl: 'https://public-keys.auth.elb.eu-west-1.amazonaws.com',
    });
    expect(loadConductorConfig({ CONSOLE_AUTH: 'proxy', CONSOLE_PROXY_ALB_ARN: albArn, CONSOLE_PROXY_KEY_URL: 'http://127.0.0.1:9/keys/' }).consoleAuth).toMatchObject({
      publicKeyUrl: 'http://127.0.0.1:9/keys',
    });
    expect(() => loadConductorConfig({ CONSOLE_AUTH: 'proxy' })).toThrow(/CONSOLE_PROXY_ALB_ARN/);
    expect(() => loadConductorConfig({ CONSOLE_AUTH: 'proxy', CONSOLE_PROXY_ALB_ARN: 'arn:aws:s3:::bucket' })).toThrow(/CONSOLE_PROXY_ALB_ARN/);
    expect(() => loadConductorConfig({ CONSOLE_AUTH: 'proxy', CONSOLE_PROXY_ALB_ARN: albArn, CONSOLE_TOKEN: 'c'.repeat(40) })).toThrow(/no token is accepted/);
  });
  it('knows the scheduler\'s incident window and cap for the console, and an optional DLQ URL', () => {
    expect(loadConductorConfig({})).toMatchObject({ incidentPolicy: { windowMs: 60 * 60_000, capMs: 24 * 3_600_000 }, sqsDlqUrl: undefined });
    expect(loadConductorConfig({ INCIDENT_WINDOW_MINUTES: '15', INCIDENT_CAP_HOURS: '2', SQS_DLQ_URL: 'http://q/dlq' })).toMatchObject({
      incidentPolicy: { windowMs: 15 * 60_000, capMs: 2 * 3_600_000 },
      sqsDlqUrl: 'http://q/dlq',
    });
    expect(() => loadConductorConfig({ INCIDENT_WINDOW_MINUTES: '180', INCIDENT_CAP_HOURS: '1' })).toThrow(/INCIDENT_CAP_HOURS/);
  });

  it('gathers incident evidence only when INCIDENT_EVIDENCE=on, over a bounded lookback', () => {
    expect(loadConductorConfig({})).toMatchObject({ incidentEvidence: false, incidentEvidenceLookbackHours: 3 });
    expect(loadConductorConfig({ INCIDENT_EVIDENCE: 'on', INCIDENT_EVIDENCE_LOOKBACK_HOURS: '6' })).toMatchObject({ incidentEvidence: true, incidentEvidenceLookbackHours: 6 });
    expect(() => loadConductorConfig({ INCIDENT_EVIDENCE: 'yes' })).toThrow(/INCIDENT_EVIDENCE/);
    expect(() => loadConductorConfig({ INCIDENT_EVIDENCE_LOOKBACK_HOURS: '0' })).toThrow(/INCIDENT_EVIDENCE_LOOKBACK_HOURS/);
  });

  it('waits a bounded time for a route\'s Logs Insights query, 60 s unless INCIDENT_LOGS_MAX_WAIT_SECONDS says otherwise', () => {
    expect(loadConductorConfig({}).incidentLogsMaxWaitSeconds).toBe(60);
    expect(loadConductorConfig({ INCIDENT_LOGS_MAX_WAIT_SECONDS: '15' }).incidentLogsMaxWaitSeconds).toBe(15);
    expect(() => loadConductorConfig({ INCIDENT_LOGS_MAX_WAIT_SECONDS: '0' })).toThrow(/INCIDENT_LOGS_MAX_WAIT_SECONDS/);
    expect(() => loadConductorConfig({ INCIDENT_LOGS_MAX_WAIT_SECONDS: '301' })).toThrow(/INCIDENT_LOGS_MAX_WAIT_SECONDS/);
  });

  it('gives read-only incident agents AWS sessions of AGENT_AWS_SESSION_SECONDS, 900 to 3600', () => {
    expect(loadConductorConfig({}).agentAwsSessionSeconds).toBe(3600);
    expect(loadConductorConfig({ AGENT_AWS_SESSION_SECONDS: '900' }).agentAwsSessionSeconds).toBe(900);
    expect(() => loadConductorConfig({ AGENT_AWS_SESSION_SECONDS: '3601' })).toThrow(/AGENT_AWS_SESSION_SECONDS/);
    expect(() => loadConductorConfig({ AGENT_AWS_SESSION_SECONDS: '899' })).toThrow(/AGENT_AWS_SESSION_SECONDS/);
  });

  it('sends CloudWatch calls to CLOUDWATCH_ENDPOINT only when it is set, and only to an http(s) URL', () => {
    expect(loadConductorConfig({}).cloudWatchEndpoint).toBeUndefined();
    expect(loadConductorConfig({ CLOUDWATCH_ENDPOINT: 'http://127.0.0.1:4566' }).cloudWatchEndpoint).toBe('http://127.0.0.1:4566');
    expect(() => loadConductorConfig({ CLOUDWATCH_ENDPOINT: '127.0.0.1:4566' })).toThrow(/CLOUDWATCH_ENDPOINT/);
  });

  it('sends STS calls to STS_ENDPOINT only when it is set, and only to an http(s) URL', () => {
    expect(loadConductorConfig({}).stsEndpoint).toBeUndefined();
    expect(loadConductorConfig({ STS_ENDPOINT: 'http://127.0.0.1:4566' }).stsEndpoint).toBe('http://127.0.0.1:4566');
    expect(() => loadConductorConfig({ STS_ENDPOINT: '127.0.0.1:4566' })).toThrow(/STS_ENDPOINT/);
  });

  it('reports to Jira only with JIRA_BASE_URL and credentials, basic or bearer, from a variable or a file, never echoing them', () => {
    expect(loadConductorConfig({}).jira).toBeUndefined();
    const basic = loadConductorConfig({ JIRA_BASE_URL: 'https://example.atlassian.net/', JIRA_EMAIL: 'bot@example.com', JIRA_API_TOKEN: 'jira-secret-1' }).jira;
    expect(basic).toEqual({
      baseUrl: 'https://example.atlassian.net',
      credentials: { kind: 'basic', email: 'bot@example.com', apiToken: 'jira-secret-1' },
      timeoutMs: 10_000,
      maxTries: 12,
      retryBaseMs: 5000,
      retryMaxMs: 600_000,
      pollIntervalMs: 5000,
    });
    const dir = mkdtempSync(join(tmpdir(), 'jira-token-'));
    writeFileSync(join(dir, 'pat'), 'jira-secret-2\n');
    expect(loadConductorConfig({ JIRA_BASE_URL: 'http://127.0.0.1:9', JIRA_BEARER_TOKEN_FILE: 'pat' }, dir).jira?.credentials).toEqual({ kind: 'bearer', token: 'jira-secret-2' });
    const refused = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConductorConfig(env, dir);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidConductorEnvError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${Object.keys(env).join(', ')}`);
    };
    expect(refused({ JIRA_API_TOKEN: 'jira-secret-3' })).toMatch(/JIRA_BASE_URL: Jira credentials are set/);
    expect(refused({ JIRA_BASE_URL: 'https://j.example' })).toMatch(/JIRA_API_TOKEN: JIRA_BASE_URL needs/);
    const noEmail = refused({ JIRA_BASE_URL: 'https://j.example', JIRA_API_TOKEN: 'jira-secret-4' });
    expect(noEmail).toMatch(/JIRA_EMAIL/);
    expect(noEmail).not.toContain('jira-secret-4');
    expect(refused({ JIRA_BASE_URL: 'https://j.example', JIRA_API_TOKEN: 'a', JIRA_EMAIL: 'e', JIRA_BEARER_TOKEN: 'b' })).toMatch(/not both/);
    expect(refused({ JIRA_BASE_URL: 'https://u:p@j.example', JIRA_BEARER_TOKEN: 'b' })).toMatch(/not in the URL/);
    expect(refused({ JIRA_BASE_URL: 'j.example', JIRA_BEARER_TOKEN: 'b' })).toMatch(/JIRA_BASE_URL: expected an http\(s\) URL/);
    expect(refused({ JIRA_BASE_URL: 'https://j.example', JIRA_BEARER_TOKEN_FILE: 'missing' })).toMatch(/JIRA_BEARER_TOKEN_FILE: cannot read it \(ENOENT\)/);
    expect(refused({ JIRA_BASE_URL: 'https://j.example', JIRA_BEARER_TOKEN: 'b', JIRA_RETRY_BASE_MS: '10', JIRA_RETRY_MAX_MS: '5' })).toMatch(/JIRA_RETRY_MAX_MS/);
  });

  it('takes the GitHub webhook secret from a variable or a file, refuses a short one without echoing it', () => {
    expect(loadConductorConfig({})).toMatchObject({ githubWebhookMaxBytes: 1_048_576 });
    expect(loadConductorConfig({}).githubWebhookSecret).toBeUndefined();
    expect(loadConductorConfig({ GITHUB_WEBHOOK_SECRET: 'hook-secret-0123456789' }).githubWebhookSecret).toBe('hook-secret-0123456789');
    const dir = mkdtempSync(join(tmpdir(), 'github-secret-'));
    writeFileSync(join(dir, 'secret'), 'hook-secret-from-a-file\n');
    expect(loadConductorConfig({ GITHUB_WEBHOOK_SECRET_FILE: 'secret', GITHUB_WEBHOOK_MAX_BYTES: '2048' }, dir)).toMatchObject({
      githubWebhookSecret: 'hook-secret-from-a-file',
      githubWebhookMaxBytes: 2048,
    });
    const refusal = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConductorConfig(env, dir);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidConductorEnvError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${Object.keys(env).join(', ')}`);
    };
    const short = refusal({ GITHUB_WEBHOOK_SECRET: 'tiny-secret' });
    expect(short).toMatch(/GITHUB_WEBHOOK_SECRET: must be at least 16 characters/);
    expect(short).not.toContain('tiny-secret');
    expect(refusal({ GITHUB_WEBHOOK_SECRET: 'hook-secret-0123456789', GITHUB_WEBHOOK_SECRET_FILE: 'secret' })).toMatch(/not both/);
    expect(refusal({ GITHUB_WEBHOOK_SECRET_FILE: 'missing' })).toMatch(/GITHUB_WEBHOOK_SECRET_FILE: cannot read it \(ENOENT\)/);
    expect(refusal({ GITHUB_WEBHOOK_MAX_BYTES: '0' })).toMatch(/GITHUB_WEBHOOK_MAX_BYTES/);
  });
});
