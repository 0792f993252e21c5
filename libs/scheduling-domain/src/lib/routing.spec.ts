import {
  defaultRepositoryName,
  defaultRoutingTable,
  incidentGroupOf,
  repositoryNameProblem,
  routeIncident,
  RouteRepository,
  routeRepositoriesProblems,
  routeTicket,
  RoutingTable,
  routingTableProblems,
  sparsePathProblem,
  ticketMatches,
} from './routing';
import { TicketFacts } from './types';

const PLATFORM = 'https://github.com/acme/platform.git';
const AUTH = 'https://github.com/acme/auth.git';
const BILLING = 'https://github.com/acme/billing.git';
const ENG = 'https://github.com/acme/eng.git';
const ORDERS = 'https://github.com/acme/orders.git';

const table: RoutingTable = {
  default: { repository: PLATFORM, branch: 'main', sparsePaths: [] },
  tickets: [
    {
      match: { project: 'ENG', labels: ['auth', 'login'] },
      repository: AUTH,
      branch: 'develop',
      sparsePaths: ['services/auth'],
      workerTaskDefinition: 'agent-worker-node22',
      maxTokens: 500_000,
    },
    { match: { components: ['Billing', 'Invoices'] }, repository: BILLING, branch: 'main', sparsePaths: [] },
    { match: { project: 'ENG' }, repository: ENG, branch: 'main', sparsePaths: [] },
  ],
  incidents: [{ account: '123456789012', repository: ORDERS, branch: 'main', sparsePaths: ['infra', 'services/orders'] }],
};

function ticket(overrides: Partial<Pick<TicketFacts, 'projectKey' | 'labels' | 'components'>> = {}): Pick<TicketFacts, 'projectKey' | 'labels' | 'components'> {
  return { projectKey: 'OPS', labels: [], components: [], ...overrides };
}

describe('routeTicket', () => {
  it('routes by project and label together, with the rule branch, sparse paths, task definition and token budget', () => {
    expect(routeTicket(ticket({ projectKey: 'ENG', labels: ['frontend', 'auth'] }), table)).toEqual({
      repository: AUTH,
      branch: 'develop',
      sparsePaths: ['services/auth'],
      workerTaskDefinition: 'agent-worker-node22',
      maxTokens: 500_000,
    });
  });

  it('needs every given criterion: the project alone does not satisfy a project + labels rule', () => {
    expect(routeTicket(ticket({ projectKey: 'ENG', labels: ['frontend'] }), table).repository).toBe(ENG);
    expect(routeTicket(ticket({ projectKey: 'OPS', labels: ['auth'] }), table).repository).toBe(PLATFORM);
  });

  it('routes by component when the ticket has at least one of them', () => {
    expect(routeTicket(ticket({ components: ['Search', 'Invoices'] }), table)).toEqual({ repository: BILLING, branch: 'main', sparsePaths: [] });
  });

  it('takes the first matching rule', () => {
    // Matches rules 0, 1 and 2: rule 0 wins.
    expect(routeTicket(ticket({ projectKey: 'ENG', labels: ['auth'], components: ['Billing'] }), table).repository).toBe(AUTH);
    // Matches rules 1 and 2: rule 1 wins.
    expect(routeTicket(ticket({ projectKey: 'ENG', components: ['Billing'] }), table).repository).toBe(BILLING);
  });

  it('compares project keys, labels and components exactly', () => {
    expect(routeTicket(ticket({ projectKey: 'eng' }), table).repository).toBe(PLATFORM);
    expect(routeTicket(ticket({ components: ['billing'] }), table).repository).toBe(PLATFORM);
  });

  it('falls back to the default route, also for a ticket without a project key', () => {
    expect(routeTicket(ticket({ projectKey: null, labels: ['x'] }), table)).toEqual({ repository: PLATFORM, branch: 'main', sparsePaths: [] });
  });

  it('returns a copy: a caller cannot change the table through a route', () => {
    const route = routeTicket(ticket({ projectKey: 'ENG', labels: ['auth'] }), table);
    route.sparsePaths.push('other');
    expect(table.tickets[0]?.sparsePaths).toEqual(['services/auth']);
  });
});

describe('ticketMatches', () => {
  it('never matches with an empty match', () => {
    expect(ticketMatches({}, ticket({ projectKey: 'ENG' }))).toBe(false);
  });
});

describe('routeIncident', () => {
  it('routes by AWS account', () => {
    expect(routeIncident('123456789012', table)).toEqual({ repository: ORDERS, branch: 'main', sparsePaths: ['infra', 'services/orders'] });
  });

  it('falls back to the default route for other accounts', () => {
    expect(routeIncident('999999999999', table).repository).toBe(PLATFORM);
  });
});

describe('defaultRoutingTable', () => {
  it('sends everything to one repository on main, without sparse paths', () => {
    const only = defaultRoutingTable('/srv/sample-app.git');
    expect(routeTicket(ticket({ projectKey: 'ENG', labels: ['auth'] }), only)).toEqual({ repository: '/srv/sample-app.git', branch: 'main', sparsePaths: [] });
    expect(routeIncident('123456789012', defaultRoutingTable('/srv/a.git', 'trunk'))).toEqual({ repository: '/srv/a.git', branch: 'trunk', sparsePaths: [] });
  });
});

describe('sparsePathProblem', () => {
  it.each([
    ['services/auth', null],
    ['infra', null],
    ['a/..b/c', null],
    ['', 'must not be empty'],
    ['/etc', 'must be relative (no leading /)'],
    ['../secrets', 'must not contain ..'],
    ['services/../..', 'must not contain ..'],
    ['services\\auth', 'must use / as separator'],
  ])('%j → %s', (path, problem) => {
    expect(sparsePathProblem(path)).toBe(problem);
  });
});

describe('route claims', () => {
  const claimed: RoutingTable = {
    default: { repository: PLATFORM, branch: 'main', sparsePaths: [], claim: 'platform/core', maxActive: 2 },
    tickets: [{ match: { project: 'ENG' }, repository: ENG, branch: 'main', sparsePaths: [], maxActive: 3 }],
    incidents: [{ account: '123456789012', repository: ORDERS, branch: 'main', sparsePaths: [], claim: 'orders/ops' }],
  };

  it('carries the claim and maxActive of the rule that routed, and nothing when the rule has none', () => {
    expect(routeTicket(ticket({ projectKey: 'ENG' }), claimed)).toEqual({ repository: ENG, branch: 'main', sparsePaths: [], maxActive: 3 });
    expect(routeTicket(ticket(), claimed)).toMatchObject({ claim: 'platform/core', maxActive: 2 });
    expect(routeIncident('123456789012', claimed)).toEqual({ repository: ORDERS, branch: 'main', sparsePaths: [], claim: 'orders/ops' });
    expect(routeTicket(ticket(), table)).not.toHaveProperty('claim');
  });

  it('refuses an empty claim and a maxActive below 1 or fractional', () => {
    expect(
      routingTableProblems({
        default: { repository: PLATFORM, branch: 'main', sparsePaths: [], claim: ' ', maxActive: 0 },
        tickets: [{ match: { project: 'ENG' }, repository: ENG, branch: 'main', sparsePaths: [], maxActive: 1.5 }],
        incidents: [{ account: '123456789012', repository: ORDERS, branch: 'main', sparsePaths: [], maxActive: 1 }],
      }),
    ).toEqual([
      'default.claim: must not be empty',
      'default.maxActive: must be a whole number of at least 1',
      'tickets[0].maxActive: must be a whole number of at least 1',
    ]);
  });
});

describe('routingTableProblems', () => {
  it('accepts a valid table', () => {
    expect(routingTableProblems(table)).toEqual([]);
  });

  it('lists every problem with its path', () => {
    expect(
      routingTableProblems({
        default: { repository: ' ', branch: 'main', sparsePaths: ['/abs'] },
        tickets: [{ match: {}, repository: AUTH, branch: 'main', sparsePaths: [], workerTaskDefinition: 'bad name!' }],
        incidents: [
          { account: '12345', repository: ORDERS, branch: 'main', sparsePaths: [] },
          { account: '123456789012', repository: ORDERS, branch: 'main', sparsePaths: [], maxTokens: 0 },
          { account: '123456789012', repository: ORDERS, branch: '', sparsePaths: ['..'], maxTokens: 2 ** 31 },
        ],
      }),
    ).toEqual([
      'default.repository: must not be empty',
      'default.sparsePaths[0]: must be relative (no leading /)',
      'tickets[0].match: must name project, labels or components',
      'tickets[0].worker.taskDefinition: must be a task definition family, family:revision or ARN',
      'incidents[0].account: must be a 12-digit AWS account id',
      'incidents[1].maxTokens: must be a whole number of tokens from 1 to 2147483647',
      'incidents[2].account: 123456789012 is already routed by incidents[1]',
      'incidents[2].branch: must not be empty',
      'incidents[2].sparsePaths[0]: must not contain ..',
      'incidents[2].maxTokens: must be a whole number of tokens from 1 to 2147483647',
    ]);
  });
});

describe('several repositories on an incident route', () => {
  const repo = (url: string, name: string, branch = 'main'): RouteRepository => ({ url, branch, name, sparsePaths: [] });
  const PAYMENTS = 'https://github.com/acme/payments.git';
  const withRepositories = (repositories: RouteRepository[], first = repositories[0]): RoutingTable => ({
    default: { repository: PLATFORM, branch: 'main', sparsePaths: [] },
    tickets: [],
    incidents: [{ account: '123456789012', repository: first?.url ?? ORDERS, branch: first?.branch ?? 'main', sparsePaths: [], repositories, group: 'shop' }],
  });

  it('routes an incident to all of them, the first being the route repository', () => {
    const routed = withRepositories([repo(ORDERS, 'orders'), repo(PAYMENTS, 'payments', 'develop')]);
    expect(routingTableProblems(routed)).toEqual([]);
    expect(routeIncident('123456789012', routed)).toEqual({
      repository: ORDERS,
      branch: 'main',
      sparsePaths: [],
      repositories: [repo(ORDERS, 'orders'), repo(PAYMENTS, 'payments', 'develop')],
    });
    expect(incidentGroupOf('123456789012', routed)).toBe('shop');
    expect(incidentGroupOf('999999999999', routed)).toBeUndefined();
  });

  it('refuses duplicate names, duplicate URLs, unsafe names and more than ten', () => {
    expect(routeRepositoriesProblems('r', [repo(ORDERS, 'orders'), repo(PAYMENTS, 'orders'), repo(ORDERS, 'again')])).toEqual([
      'r[1].name: "orders" is already used by r[0] (give one a "name")',
      'r[2].repository: https://github.com/acme/orders.git is already listed by r[0]',
    ]);
    expect(routeRepositoriesProblems('r', [repo(ORDERS, '../etc'), repo(PAYMENTS, 'a/b'), repo(AUTH, '..'), repo(BILLING, '')])).toEqual([
      'r[0].name: must use only letters, digits, ".", "_" and "-" (got "../etc")',
      'r[1].name: must use only letters, digits, ".", "_" and "-" (got "a/b")',
      'r[2].name: must not be "." or contain ".." (got "..")',
      'r[3].name: must not be empty (name the repository: its URL ends without one)',
    ]);
    const eleven = Array.from({ length: 11 }, (_, index) => repo(`https://github.com/acme/r${index}.git`, `r${index}`));
    expect(routeRepositoriesProblems('r', eleven)).toEqual(['r: at most 10 repositories per route (got 11)']);
    expect(routeRepositoriesProblems('r', eleven.slice(0, 10))).toEqual([]);
    expect(routeRepositoriesProblems('r', [])).toEqual(['r: must list at least one repository']);
  });

  it('needs the first repository to be the route repository, and only on incident rules', () => {
    const table = withRepositories([repo(ORDERS, 'orders'), repo(PAYMENTS, 'payments')], repo(PAYMENTS, 'payments'));
    expect(routingTableProblems(table)).toEqual(["incidents[0].repositories[0]: must be the route's repository and branch (the job's first repository)"]);
    expect(
      routingTableProblems({ ...table, incidents: [], default: { repository: ORDERS, branch: 'main', sparsePaths: [], repositories: [repo(ORDERS, 'orders')] } }),
    ).toEqual(['default.repositories: only incident rules may list several repositories']);
  });

  it.each([
    ['https://github.com/acme/orders.git', 'orders'],
    ['https://github.com/acme/orders/', 'orders'],
    ['git@github.com:acme/payments.git', 'payments'],
    ['/srv/git/sample-app', 'sample-app'],
    ['orders', 'orders'],
  ])('names %s %j by default', (url, name) => {
    expect(defaultRepositoryName(url)).toBe(name);
  });

  it.each([
    ['orders', null],
    ['orders.v2_x-1', null],
    ['.hidden', null],
    ['.', 'must not be "." or contain ".." (got ".")'],
    ['a..b', 'must not be "." or contain ".." (got "a..b")'],
    ['a b', 'must use only letters, digits, ".", "_" and "-" (got "a b")'],
  ])('repositoryNameProblem(%j) → %s', (name, problem) => {
    expect(repositoryNameProblem(name)).toBe(problem);
  });
});
