import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '../src/config/config.module';
import { parseWorkerEnv, WorkerConfigError, type WorkerConfig } from '../src/config/env.validators';
import { FsModule } from '../src/fs/fs.module';
import { httpAuthEnv } from '../src/git/authenticated-push';
import { scrubbedEnv } from '../src/process/child-env';
import { GitHubPublisher } from '../src/publish/github-publisher';
import { LocalGitPublisher } from '../src/publish/local-git-publisher';
import { PublishModule } from '../src/publish/publish.module';
import { PUBLISHER } from '../src/publish/publisher';

const GITHUB_TOKEN = 'github_pat_11AAAAAAA0secretvalue';
const base = { WORKER_ID: 'w-1', WORKER_TOKEN: 'worker-secret', CONDUCTOR_GRPC_SERVER_ADDR: '127.0.0.1:50051', AGENT_COMMAND: 'true', WORK_DIR: '/tmp/w' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parseWorkerEnv(env);
  } catch (error) {
    if (error instanceof WorkerConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
}

describe('PUBLISHER=github configuration', () => {
  it('reads the token, the default API URL and no repository override', () => {
    const config = parseWorkerEnv({ ...base, PUBLISHER: 'github', GITHUB_TOKEN });
    expect(config.publisher).toBe('github');
    expect(config.github).toEqual({ token: GITHUB_TOKEN, apiUrl: 'https://api.github.com', repository: undefined, reportLabel: 'incident-report' });
  });

  it('takes GITHUB_API_URL (GitHub Enterprise, tests) and GITHUB_REPOSITORY', () => {
    const config = parseWorkerEnv({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_API_URL: 'https://ghe.example.com/api/v3', GITHUB_REPOSITORY: 'acme/orders-api' });
    expect(config.github).toEqual({ token: GITHUB_TOKEN, apiUrl: 'https://ghe.example.com/api/v3', repository: 'acme/orders-api', reportLabel: 'incident-report' });
  });

  it('takes GITHUB_REPORT_LABEL for report-only endings, and refuses a label GitHub would not take as one', () => {
    expect(parseWorkerEnv({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_REPORT_LABEL: ' ops: no change needed ' }).github?.reportLabel).toBe('ops: no change needed');
    expect(problems({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_REPORT_LABEL: 'incident,report' })).toEqual(['GITHUB_REPORT_LABEL must be one label, without commas']);
    expect(problems({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_REPORT_LABEL: 'x'.repeat(51) })).toEqual([expect.stringMatching(/^GITHUB_REPORT_LABEL must be at most 50 characters/)]);
    expect(problems({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_REPORT_LABEL: '   ' })).toEqual(['GITHUB_REPORT_LABEL must not be blank']);
  });

  it('requires GITHUB_TOKEN and reports bad GitHub variables together, never echoing the token', () => {
    expect(problems({ ...base, PUBLISHER: 'github', GITHUB_TOKEN: '' })).toEqual(['GITHUB_TOKEN is required when PUBLISHER=github']);
    const reported = problems({ ...base, PUBLISHER: 'github', GITHUB_TOKEN, GITHUB_API_URL: 'api.github.com', GITHUB_REPOSITORY: 'orders-api' });
    expect(reported).toEqual(['GITHUB_API_URL must be an http(s) URL, e.g. https://api.github.com', 'GITHUB_REPOSITORY must be owner/name, e.g. acme/orders-api']);
    expect(reported.join('\n')).not.toContain(GITHUB_TOKEN);
  });

  it('leaves the local publisher without GitHub settings, even when a token is around', () => {
    expect(parseWorkerEnv({ ...base, GITHUB_TOKEN }).github).toBeUndefined();
  });

  it('keeps GITHUB_TOKEN out of the environment the agent and git inherit', () => {
    expect(scrubbedEnv({ PATH: '/bin', GITHUB_TOKEN, GH_TOKEN: GITHUB_TOKEN, GITHUB_API_URL: 'https://api.github.com' })).toEqual({ PATH: '/bin', GITHUB_API_URL: 'https://api.github.com' });
  });
});

describe('httpAuthEnv', () => {
  it('scopes the Basic x-access-token header to the push URL origin', () => {
    expect(httpAuthEnv('https://github.com/acme/orders-api.git', 'ghs_abc')).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.https://github.com/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:ghs_abc').toString('base64')}`,
    });
    expect(httpAuthEnv('http://127.0.0.1:8080/git/x.git', 't').GIT_CONFIG_KEY_0).toBe('http.http://127.0.0.1:8080/.extraHeader');
  });

  it.each(['/srv/git/x.git', 'file:///srv/git/x.git', 'git@github.com:acme/x.git', 'ssh://git@github.com/acme/x.git'])('hands no token to %s', (url) => {
    expect(httpAuthEnv(url, 'ghs_abc')).toEqual({});
  });
});

describe('PublishModule', () => {
  const config = (overrides: Partial<WorkerConfig>): WorkerConfig => ({ ...parseWorkerEnv(base), ...overrides });

  async function publisherFor(workerConfig: WorkerConfig): Promise<unknown> {
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(workerConfig), FsModule, PublishModule] }).compile();
    return moduleRef.get(PUBLISHER);
  }

  it('selects the publisher by PUBLISHER', async () => {
    expect(await publisherFor(config({}))).toBeInstanceOf(LocalGitPublisher);
    expect(await publisherFor(parseWorkerEnv({ ...base, PUBLISHER: 'github', GITHUB_TOKEN }))).toBeInstanceOf(GitHubPublisher);
  });

  it('refuses a github config without GitHub settings', async () => {
    await expect(publisherFor(config({ publisher: 'github' }))).rejects.toThrow('PUBLISHER=github needs GITHUB_TOKEN');
  });
});
