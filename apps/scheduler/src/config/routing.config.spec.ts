import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadSchedulerConfig } from './env.validators';
import { absoluteRepository, jsonPath, loadRoutingFile, parseRoutingTable, RoutingFileError } from '@agent-conductor/scheduling';

const WORKSPACE = resolve(__dirname, '../../../..');
const EXAMPLE = join(WORKSPACE, 'config/routing.example.json');

function problemsOf(value: unknown): string {
  try {
    parseRoutingTable(value, 'routing.json', '/etc/agent-conductor');
  } catch (error) {
    expect(error).toBeInstanceOf(RoutingFileError);
    return (error as Error).message;
  }
  throw new Error('expected the routing table to be refused');
}

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'routing-spec-')), 'routing.json');
  writeFileSync(file, content);
  return file;
}

describe('the routing file', () => {
  it('loads the shipped example into the domain table, with branch main and no sparse paths by default', () => {
    expect(loadRoutingFile(EXAMPLE)).toEqual({
      default: { repository: 'https://github.com/acme/platform.git', branch: 'main', sparsePaths: [] },
      tickets: [
        {
          match: { project: 'ENG', labels: ['auth'] },
          repository: 'https://github.com/acme/auth.git',
          branch: 'main',
          sparsePaths: ['services/auth'],
          workerTaskDefinition: 'agent-worker-node22',
          maxTokens: 2_000_000,
        },
        { match: { components: ['Billing'] }, repository: 'https://github.com/acme/billing.git', branch: 'main', sparsePaths: [] },
      ],
      incidents: [{ account: '123456789012', repository: 'https://github.com/acme/orders.git', branch: 'main', sparsePaths: ['infra', 'services/orders'] }],
    });
  });

  it('accepts a file with only a default', () => {
    expect(parseRoutingTable({ default: { repository: 'git@github.com:acme/a.git', branch: 'trunk' } }, 'f', '/')).toEqual({
      default: { repository: 'git@github.com:acme/a.git', branch: 'trunk', sparsePaths: [] },
      tickets: [],
      incidents: [],
    });
  });

  it('lists every problem with its JSON path', () => {
    const message = problemsOf({
      tickets: [
        { match: { project: 'ENG' }, repository: 'https://github.com/acme/a.git' },
        { match: {}, repository: 'https://github.com/acme/b.git' },
        { match: { labels: [] }, repository: '', sparsePaths: ['/abs', 'ok', '../up'], worker: { taskDefinition: 'no spaces allowed' } },
        { match: { project: 'ENG', label: ['typo'] }, repository: 'https://github.com/acme/c.git' },
        { match: { project: 'OPS' }, repository: 'https://github.com/acme/d.git', maxTokens: 0 },
        { match: { project: 'WEB' }, repository: 'https://github.com/acme/e.git', maxTokens: '5000' },
        { match: { project: 'APP' }, repository: 'https://github.com/acme/f.git', maxTokens: 1.5 },
      ],
      incidents: [
        { account: '12345', repository: 'https://github.com/acme/orders.git' },
        { account: '123456789012', repository: 'https://github.com/acme/orders.git' },
        { account: '123456789012', repository: 'https://github.com/acme/other.git' },
      ],
    });
    expect(message).toMatch(/^Invalid routing file routing.json:/);
    for (const line of [
      'default: is required: an object with at least "repository"',
      'tickets[1].match: must name project, labels or components',
      'tickets[2].match.labels: must not be empty when given',
      'tickets[2].repository: must not be empty',
      'tickets[2].sparsePaths[0]: must be relative (no leading /)',
      'tickets[2].sparsePaths[2]: must not contain ..',
      'tickets[2].worker.taskDefinition: must be an ECS task definition family, family:revision or ARN',
      'tickets[3].match: Unrecognized key: "label"',
      'tickets[4].maxTokens: must be a whole number of tokens from 1 to 2147483647',
      'tickets[5].maxTokens: must be a number of tokens',
      'tickets[6].maxTokens: must be a whole number of tokens from 1 to 2147483647',
      'incidents[0].account: must be a 12-digit AWS account id',
      'incidents[2].account: 123456789012 is already routed by incidents[1]',
    ]) {
      expect(message).toContain(`  - ${line}`);
    }
    expect(message).not.toContain('tickets[0]');
    expect(message).not.toContain('sparsePaths[1]');
  });

  it('takes a claim and a maxActive per route, and leaves them out when absent', () => {
    const table = parseRoutingTable(
      {
        default: { repository: 'https://github.com/acme/mono.git' },
        tickets: [
          { match: { components: ['Billing'] }, repository: 'https://github.com/acme/mono.git', claim: 'mono/billing', maxActive: 2 },
          { match: { project: 'ENG' }, repository: 'https://github.com/acme/eng.git', maxActive: 3 },
        ],
        incidents: [{ account: '123456789012', repository: 'https://github.com/acme/mono.git', claim: 'mono/ops' }],
      },
      'f',
      '/',
    );
    expect(table.default).toEqual({ repository: 'https://github.com/acme/mono.git', branch: 'main', sparsePaths: [] });
    expect(table.tickets[0]).toMatchObject({ claim: 'mono/billing', maxActive: 2 });
    expect(table.tickets[1]).not.toHaveProperty('claim');
    expect(table.tickets[1]).toMatchObject({ maxActive: 3 });
    expect(table.incidents[0]).toMatchObject({ claim: 'mono/ops' });
    expect(table.incidents[0]).not.toHaveProperty('maxActive');
  });

  it('takes "approval": "required" or "none" per route and refuses anything else', () => {
    const table = parseRoutingTable(
      {
        default: { repository: 'https://github.com/acme/mono.git' },
        tickets: [{ match: { project: 'SEC' }, repository: 'https://github.com/acme/auth.git', approval: 'required' }],
        incidents: [{ account: '123456789012', repository: 'https://github.com/acme/mono.git', approval: 'none' }],
      },
      'f',
      '/',
    );
    expect(table.default).not.toHaveProperty('approval');
    expect(table.tickets[0]).toMatchObject({ approval: 'required' });
    expect(table.incidents[0]).toMatchObject({ approval: 'none' });
    const message = problemsOf({ default: { repository: 'x', approval: 'yes' }, tickets: [{ match: { project: 'A' }, repository: 'x', approval: true }] });
    expect(message).toContain('  - default.approval: must be "required" or "none"');
    expect(message).toContain('  - tickets[0].approval: must be "required" or "none"');
  });

  it('takes a Jira transition per route ("jira": { "transition": … }) and refuses an empty or misspelt one', () => {
    const table = parseRoutingTable(
      {
        default: { repository: 'https://github.com/acme/mono.git' },
        tickets: [{ match: { project: 'SHOP' }, repository: 'https://github.com/acme/shop.git', jira: { transition: 'In Review' } }],
      },
      'f',
      '/',
    );
    expect(table.default).not.toHaveProperty('jiraTransition');
    expect(table.tickets[0]).toMatchObject({ jiraTransition: 'In Review' });
    const message = problemsOf({
      default: { repository: 'x', jira: { transition: '' } },
      tickets: [
        { match: { project: 'A' }, repository: 'x', jira: 'In Review' },
        { match: { project: 'B' }, repository: 'x', jira: { transiton: 'In Review' } },
      ],
    });
    expect(message).toContain('  - default.jira.transition:');
    expect(message).toContain('  - tickets[0].jira: must be an object');
    expect(message).toContain('  - tickets[1].jira:');
  });

  it('takes an incident route\'s "investigation" (role, external id, agent access, narrower actions)', () => {
    const investigation = {
      roleArn: 'arn:aws:iam::123456789012:role/agent-conductor/investigation',
      externalId: 'ac-install-7f3c',
      agentAccess: 'read-only',
      actions: ['cloudwatch:GetMetricData', 'logs:StartQuery'],
    };
    const table = parseRoutingTable(
      {
        default: { repository: 'https://github.com/acme/platform.git' },
        incidents: [
          { account: '123456789012', repository: 'https://github.com/acme/orders.git', investigation },
          { account: '210987654321', repository: 'https://github.com/acme/orders.git', investigation: { roleArn: 'arn:aws:iam::210987654321:role/inv', externalId: 'xy', agentAccess: 'none' } },
        ],
      },
      'f',
      '/',
    );
    expect(table.incidents[0]?.investigation).toEqual(investigation);
    expect(table.incidents[1]?.investigation).toEqual({ roleArn: 'arn:aws:iam::210987654321:role/inv', externalId: 'xy', agentAccess: 'none' });
  });

  it('refuses an investigation role of another account, a bad external id, an unknown access level and write actions', () => {
    const rule = (account: string, investigation: unknown): unknown => ({ account, repository: 'x', investigation });
    const message = problemsOf({
      default: { repository: 'x' },
      incidents: [
        rule('123456789012', { roleArn: 'arn:aws:iam::999999999999:role/inv', externalId: 'ok-id', agentAccess: 'none' }),
        rule('210987654321', { roleArn: 'arn:aws:iam::210987654321:role/inv', externalId: 'x', agentAccess: 'none' }),
        rule('310987654321', { roleArn: 'arn:aws:iam::310987654321:role/inv', externalId: 'has space', agentAccess: 'admin' }),
        rule('410987654321', { roleArn: 'arn:aws:iam::410987654321:role/inv', externalId: 'ok-id', agentAccess: 'read-only', actions: ['s3:GetObject', 'ec2:TerminateInstances'] }),
        rule('510987654321', { roleArn: 'arn:aws:iam::510987654321:user/inv', externalId: 'ok-id', agentAccess: 'none', sessionPolicy: [] }),
      ],
    });
    for (const line of [
      "incidents[0].investigation.roleArn: must be a role in the route's account 123456789012, not 999999999999",
      'incidents[1].investigation.externalId: must be 2-1224 characters',
      'incidents[2].investigation.externalId: must be 2-1224 characters',
      'incidents[2].investigation.agentAccess: must be "none" or "read-only"',
      'incidents[3].investigation.actions: "ec2:TerminateInstances" is not a read-only action',
      'incidents[4].investigation:',
    ]) {
      expect(message).toContain(`  - ${line}`);
    }
    expect(message).not.toContain('s3:GetObject');
  });

  it('refuses an empty claim and a maxActive that is not a whole number of at least 1', () => {
    const message = problemsOf({
      default: { repository: 'x', claim: ' ', maxActive: 0 },
      tickets: [
        { match: { project: 'A' }, repository: 'x', maxActive: 1.5 },
        { match: { project: 'B' }, repository: 'x', maxActive: '2', claim: 7 },
        { match: { project: 'C' }, repository: 'x', maxActive: 1 },
      ],
    });
    for (const line of [
      'default.claim: must not be empty',
      'default.maxActive: must be at least 1',
      'tickets[0].maxActive: must be a whole number',
      'tickets[1].maxActive: must be a number',
      'tickets[1].claim: must be a string',
    ]) {
      expect(message).toContain(`  - ${line}`);
    }
    expect(message).not.toContain('tickets[2]');
  });

  it('refuses what is not a routing table at all', () => {
    expect(problemsOf([])).toContain('(file): must be a JSON object');
    expect(problemsOf({ default: { repository: 'x' }, tickets: {} })).toContain('tickets: must be a list of rules');
    expect(problemsOf({ default: { repository: 'x', worker: 'big' } })).toContain('default.worker: must be an object');
  });

  it('names a missing file and a file that is not JSON', () => {
    expect(() => loadRoutingFile('/nonexistent/routing.json')).toThrow(/^Routing file \/nonexistent\/routing.json \(ROUTING_FILE\) cannot be read: ENOENT/);
    const broken = tempFile('{ "default": ');
    expect(() => loadRoutingFile(broken)).toThrow(new RegExp(`^Routing file ${broken} \\(ROUTING_FILE\\) is not valid JSON: `));
  });

  it('makes a relative local repository path absolute against the file, and leaves URLs alone', () => {
    expect(absoluteRepository('repos/app.git', '/etc/ac')).toBe('/etc/ac/repos/app.git');
    expect(absoluteRepository('/srv/app.git', '/etc/ac')).toBe('/srv/app.git');
    expect(absoluteRepository('https://github.com/a/b.git', '/etc/ac')).toBe('https://github.com/a/b.git');
    expect(absoluteRepository('git@github.com:a/b.git', '/etc/ac')).toBe('git@github.com:a/b.git');
  });

  describe('several repositories per incident rule', () => {
    const ORDERS = 'https://github.com/acme/orders.git';
    const PAYMENTS = 'git@github.com:acme/payments.git';
    const rule = (fields: Record<string, unknown>): unknown => ({ default: { repository: 'x' }, incidents: [{ account: '123456789012', ...fields }] });

    it('takes "repositories" with default names, branches and sparse paths; the first is the route repository', () => {
      const table = parseRoutingTable(
        rule({
          group: 'shop',
          repository: ORDERS,
          repositories: [{ repository: ORDERS, sparsePaths: ['services/orders'] }, { repository: PAYMENTS, branch: 'develop' }, { repository: 'local/shared', name: 'common' }],
        }),
        'routing.json',
        '/etc/agent-conductor',
      );
      expect(table.incidents).toEqual([
        {
          account: '123456789012',
          group: 'shop',
          repository: ORDERS,
          branch: 'main',
          sparsePaths: ['services/orders'],
          repositories: [
            { url: ORDERS, branch: 'main', name: 'orders', sparsePaths: ['services/orders'] },
            { url: PAYMENTS, branch: 'develop', name: 'payments', sparsePaths: [] },
            { url: '/etc/agent-conductor/local/shared', branch: 'main', name: 'common', sparsePaths: [] },
          ],
        },
      ]);
    });

    it('refuses duplicate names, with the default names counted', () => {
      expect(problemsOf(rule({ repositories: [{ repository: ORDERS }, { repository: 'https://github.com/other/orders.git' }] }))).toContain(
        '  - incidents[0].repositories[1].name: "orders" is already used by incidents[0].repositories[0] (give one a "name")',
      );
    });

    it('refuses unsafe names', () => {
      const message = problemsOf(rule({ repositories: [{ repository: ORDERS, name: '../etc' }, { repository: PAYMENTS, name: 'a..b' }, { repository: 'https://h/x.git', name: '' }] }));
      expect(message).toContain('  - incidents[0].repositories[0].name: must use only letters, digits, ".", "_" and "-" (got "../etc")');
      expect(message).toContain('  - incidents[0].repositories[1].name: must not be "." or contain ".." (got "a..b")');
      expect(message).toContain('  - incidents[0].repositories[2].name: must not be empty');
    });

    it('refuses more than ten', () => {
      const eleven = Array.from({ length: 11 }, (_, index) => ({ repository: `https://github.com/acme/r${index}.git` }));
      expect(problemsOf(rule({ repositories: eleven }))).toContain('  - incidents[0].repositories: at most 10 repositories per route (got 11)');
      expect(() => parseRoutingTable(rule({ repositories: eleven.slice(0, 10) }), 'routing.json', '/etc')).not.toThrow();
    });

    it('refuses a repository that is not the first, branch or sparse paths beside the list, neither, and an unknown key', () => {
      const message = problemsOf({
        default: { repository: 'x' },
        incidents: [
          { account: '123456789012', repository: PAYMENTS, branch: 'main', sparsePaths: ['a'], repositories: [{ repository: ORDERS }, { repository: PAYMENTS }] },
          { account: '210987654321' },
        ],
      });
      expect(message).toContain(`  - incidents[0].repository: must be the first of "repositories" (${ORDERS}) when both are given`);
      expect(message).toContain('  - incidents[0].branch: give the branch on each of "repositories" instead');
      expect(message).toContain('  - incidents[0].sparsePaths: give the sparse paths on each of "repositories" instead');
      expect(message).toContain('  - incidents[1]: needs "repository" or "repositories"');
      expect(problemsOf(rule({ repositories: [{ repository: ORDERS, url: ORDERS }] }))).toContain('incidents[0].repositories[0]');
      expect(problemsOf(rule({ repositories: [] }))).toContain('  - incidents[0].repositories: must list at least one repository');
      expect(problemsOf(rule({ repository: ORDERS, group: ' ' }))).toContain('  - incidents[0].group: must not be empty');
    });

    it('keeps "repositories" and "group" to incident rules', () => {
      expect(problemsOf({ default: { repository: 'x', repositories: [{ repository: 'y' }] } })).toContain('default');
      expect(problemsOf({ default: { repository: 'x' }, tickets: [{ match: { project: 'A' }, repository: 'x', group: 'g' }] })).toContain('tickets[0]');
    });
  });

  it('formats JSON paths', () => {
    expect(jsonPath([])).toBe('(file)');
    expect(jsonPath(['tickets', 1, 'match'])).toBe('tickets[1].match');
    expect(jsonPath(['incidents', 0, 'sparsePaths', 2])).toBe('incidents[0].sparsePaths[2]');
  });
});

describe('ROUTING_FILE in the scheduler environment', () => {
  it('is optional: without it there is no routing table (every job takes the default route)', () => {
    const config = loadSchedulerConfig({}, '/work/ws');
    expect(config.routing).toBeUndefined();
    expect(config.routingFile).toBeUndefined();
  });

  it('loads the file relative to the workspace', () => {
    const config = loadSchedulerConfig({ ROUTING_FILE: 'config/routing.example.json' }, WORKSPACE);
    expect(config.routingFile).toBe(EXAMPLE);
    expect(config.routing?.tickets).toHaveLength(2);
  });

  it('stops the boot on a bad file', () => {
    const bad = tempFile(JSON.stringify({ default: { repository: 'https://github.com/a/b.git' }, tickets: [{ match: {}, repository: 'x' }] }));
    expect(() => loadSchedulerConfig({ ROUTING_FILE: bad })).toThrow(/tickets\[0\]\.match: must name project, labels or components/);
  });

  it('replaces the production requirement of DEFAULT_REPOSITORY_URL', () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://u:p@db:5432/ac' };
    expect(() => loadSchedulerConfig(env)).toThrow(ConfigError);
    expect(() => loadSchedulerConfig(env)).toThrow(/DEFAULT_REPOSITORY_URL: is required when NODE_ENV=production \(unless ROUTING_FILE is set\)/);
    expect(loadSchedulerConfig({ ...env, ROUTING_FILE: EXAMPLE }).routing?.default.repository).toBe('https://github.com/acme/platform.git');
  });
});

describe('the routing file: an incident route\'s Logs Insights query ("logs")', () => {
  const incident = (logs: unknown) => ({ default: { repository: 'x' }, incidents: [{ account: '123456789012', repository: 'x', logs }] });

  it('takes log groups, a query and a limit, with 200 rows when the limit is left out', () => {
    const query = 'fields @timestamp, @message | filter @message like /ERROR/';
    const table = parseRoutingTable(
      {
        default: { repository: 'x' },
        incidents: [
          { account: '123456789012', repository: 'x', logs: { logGroups: ['/ecs/orders', '/aws/lambda/orders-api'], query, limit: 50 } },
          { account: '210987654321', repository: 'x', logs: { logGroups: ['/ecs/payments'], query: `  ${query}  ` } },
          { account: '111122223333', repository: 'x' },
        ],
      },
      'f',
      '/',
    );
    expect(table.incidents.map((rule) => rule.logs)).toEqual([
      { logGroups: ['/ecs/orders', '/aws/lambda/orders-api'], query, limit: 50 },
      { logGroups: ['/ecs/payments'], query, limit: 200 },
      undefined,
    ]);
    expect(table.incidents[2]).not.toHaveProperty('logs');
  });

  it('refuses no or too many log groups, a bad group name, an empty query, an unbounded limit and unknown keys, with their paths', () => {
    const groups = Array.from({ length: 21 }, (_, index) => `/ecs/service-${index}`);
    expect(problemsOf(incident({ logGroups: [], query: 'fields @message' }))).toContain('  - incidents[0].logs.logGroups: must list 1 to 20 log groups');
    expect(problemsOf(incident({ logGroups: groups, query: 'fields @message' }))).toContain('  - incidents[0].logs.logGroups: must list 1 to 20 log groups');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok', 'has space'], query: 'fields @message' }))).toContain('  - incidents[0].logs.logGroups[1]: must be a log group name');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok'], query: '   ' }))).toContain('  - incidents[0].logs.query: must not be empty');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok'], query: 'fields @message', limit: 0 }))).toContain('  - incidents[0].logs.limit: must be a whole number from 1 to 1000');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok'], query: 'fields @message', limit: 1001 }))).toContain('  - incidents[0].logs.limit: must be a whole number from 1 to 1000');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok'], query: 'fields @message', limit: 2.5 }))).toContain('  - incidents[0].logs.limit: must be a whole number from 1 to 1000');
    expect(problemsOf(incident({ logGroups: ['/ecs/ok'], query: 'fields @message', groups: ['/ecs/x'] }))).toMatch(/incidents\[0\]\.logs: Unrecognized key.*groups/);
    expect(problemsOf(incident('fields @message'))).toContain('  - incidents[0].logs: must be an object with "logGroups" and "query"');
  });

  it('is for incident routes only', () => {
    expect(problemsOf({ default: { repository: 'x', logs: { logGroups: ['/ecs/ok'], query: 'fields @message' } } })).toMatch(/default: Unrecognized key.*logs/);
  });
});
