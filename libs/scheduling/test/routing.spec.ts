import { createPrismaClient, IngestRepository, PrismaClient } from '@agent-conductor/db';
import { type IncidentRoute, RoutingTable } from '@agent-conductor/scheduling-domain';
import { DEFAULT_INCIDENT_POLICY, SchedulingService } from '../src';
import { databaseUrl, emptyTables, eventBridgeAlarm, fixture } from './support';

const DEFAULT = '/srv/git/sample-app.git';
const ORDERS_INCIDENT: IncidentRoute = { account: '123456789012', repository: 'https://github.com/acme/orders.git', branch: 'main', sparsePaths: ['infra', 'services/orders'], maxTokens: 80_000 };

const ROUTING: RoutingTable = {
  default: { repository: 'https://github.com/acme/platform.git', branch: 'trunk', sparsePaths: [] },
  tickets: [
    {
      match: { project: 'ENG', labels: ['auth'] },
      repository: 'https://github.com/acme/auth.git',
      branch: 'develop',
      sparsePaths: ['services/auth'],
      workerTaskDefinition: 'agent-worker-node22',
      maxTokens: 250_000,
      jiraTransition: 'In Review',
    },
    { match: { components: ['Billing'] }, repository: 'https://github.com/acme/billing.git', branch: 'main', sparsePaths: ['billing'] },
    { match: { project: 'OPS' }, repository: 'https://github.com/acme/ops.git', branch: 'main', sparsePaths: [] },
  ],
  incidents: [ORDERS_INCIDENT],
};

interface IssueEdit {
  key: string;
  project?: string;
  labels?: string[];
  components?: string[];
}

/** The Jira REST fixture with its key, project, labels and components replaced. */
function issue(edit: IssueEdit): string {
  const body = JSON.parse(fixture('jira-issue.json')) as {
    key: string;
    fields: { project: { key: string }; labels: string[]; components: Array<{ name: string }> };
  };
  body.key = edit.key;
  if (edit.project !== undefined) body.fields.project.key = edit.project;
  if (edit.labels !== undefined) body.fields.labels = edit.labels;
  if (edit.components !== undefined) body.fields.components = edit.components.map((name) => ({ name }));
  return JSON.stringify(body);
}

describe('SchedulingService: routing jobs to repositories (real Postgres)', () => {
  let prisma: PrismaClient;
  let ingest: IngestRepository;
  let routed: SchedulingService;
  let counter = 0;
  const nextId = (): string => `route-${(counter += 1)}`;

  async function routeOf(
    service: SchedulingService,
    body: string,
  ): Promise<{ repository: string; branch: string | null; sparsePaths: string[]; workerTaskDefinition: string | null; maxTokens: number | null; jiraTransition?: string | null }> {
    const result = await service.submit({ messageId: nextId(), body, receivedAt: new Date() });
    const jobId = result.decisions[0]?.jobId;
    if (jobId === undefined) throw new Error(`no job decided: ${JSON.stringify(result)}`);
    return prisma.job.findUniqueOrThrow({
      where: { id: jobId },
      select: { repository: true, branch: true, sparsePaths: true, workerTaskDefinition: true, maxTokens: true, jiraTransition: true },
    }).then(({ jiraTransition, ...route }) => (jiraTransition === null ? route : { ...route, jiraTransition }));
  }

  beforeAll(() => {
    prisma = createPrismaClient(databaseUrl());
    ingest = new IngestRepository({ databaseUrl: databaseUrl() });
    routed = new SchedulingService(ingest, { defaultRepositoryUrl: DEFAULT, incidentPolicy: DEFAULT_INCIDENT_POLICY, routing: ROUTING });
  });
  afterAll(async () => {
    await ingest.close();
    await prisma.$disconnect();
  });
  beforeEach(() => emptyTables(prisma));

  it('stores the route of a ticket matched by project and label: repository, branch, sparse paths, task definition, token budget, Jira transition', async () => {
    expect(await routeOf(routed, issue({ key: 'ENG-1', project: 'ENG', labels: ['session', 'auth'] }))).toEqual({
      repository: 'https://github.com/acme/auth.git',
      branch: 'develop',
      sparsePaths: ['services/auth'],
      workerTaskDefinition: 'agent-worker-node22',
      maxTokens: 250_000,
      jiraTransition: 'In Review',
    });
  });

  it('routes a ticket by component, and by project alone', async () => {
    expect(await routeOf(routed, issue({ key: 'ENG-2', project: 'ENG', labels: [], components: ['Search', 'Billing'] }))).toEqual({
      repository: 'https://github.com/acme/billing.git',
      branch: 'main',
      sparsePaths: ['billing'],
      workerTaskDefinition: null,
      maxTokens: null,
    });
    expect(await routeOf(routed, issue({ key: 'OPS-3', project: 'OPS', labels: ['auth'], components: [] }))).toMatchObject({
      repository: 'https://github.com/acme/ops.git',
    });
  });

  it("sends an unmatched ticket to the file's default", async () => {
    expect(await routeOf(routed, issue({ key: 'WEB-4', project: 'WEB', labels: ['auth'], components: [] }))).toEqual({
      repository: 'https://github.com/acme/platform.git',
      branch: 'trunk',
      sparsePaths: [],
      workerTaskDefinition: null,
      maxTokens: null,
    });
  });

  it("routes an incident by the alarm's AWS account", async () => {
    const alarm = (account: string): string => eventBridgeAlarm({ account, time: new Date('2026-05-12T20:00:00Z') });
    expect(await routeOf(routed, alarm('123456789012'))).toEqual({
      repository: 'https://github.com/acme/orders.git',
      branch: 'main',
      sparsePaths: ['infra', 'services/orders'],
      workerTaskDefinition: null,
      maxTokens: 80_000,
    });
    expect(await routeOf(routed, alarm('210987654321'))).toMatchObject({ repository: 'https://github.com/acme/platform.git', branch: 'trunk' });
  });

  it("stores an incident route's Logs Insights query on its job, and none for other accounts or tickets", async () => {
    const logs = { logGroups: ['/ecs/orders'], query: 'fields @timestamp, @message | filter @message like /ERROR/', limit: 150 };
    const withLogs = new SchedulingService(ingest, {
      defaultRepositoryUrl: DEFAULT,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      routing: { ...ROUTING, incidents: [{ ...ORDERS_INCIDENT, logs }] },
    });
    const incidentLogsOf = async (body: string): Promise<unknown> => {
      const { decisions } = await withLogs.submit({ messageId: nextId(), body, receivedAt: new Date() });
      return (await prisma.job.findUniqueOrThrow({ where: { id: decisions[0]?.jobId ?? '' } })).incidentLogs;
    };
    const alarm = (account: string): string => eventBridgeAlarm({ account, time: new Date('2026-05-12T20:00:00Z') });
    expect(await incidentLogsOf(alarm('123456789012'))).toEqual(logs);
    expect(await incidentLogsOf(alarm('210987654321'))).toBeNull();
    expect(await incidentLogsOf(issue({ key: 'ENG-9', project: 'ENG', labels: ['auth'] }))).toBeNull();
  });

  it("stores the account rule's investigation role on the incident job, and none on other accounts' or tickets' jobs", async () => {
    const investigation = { roleArn: 'arn:aws:iam::123456789012:role/investigation', externalId: 'ac-7f3c', agentAccess: 'read-only' as const, actions: ['cloudwatch:GetMetricData'] };
    const withRole = new SchedulingService(ingest, {
      defaultRepositoryUrl: DEFAULT,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      routing: { ...ROUTING, incidents: ROUTING.incidents.map((rule) => ({ ...rule, investigation })) },
    });
    const investigationOf = async (body: string): Promise<unknown> => {
      const result = await withRole.submit({ messageId: nextId(), body, receivedAt: new Date() });
      const jobId = result.decisions[0]?.jobId;
      if (jobId === undefined) throw new Error(`no job decided: ${JSON.stringify(result)}`);
      return (await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { investigation: true } })).investigation;
    };
    const alarm = (account: string): string => eventBridgeAlarm({ account, time: new Date('2026-05-12T20:00:00Z') });
    expect(await investigationOf(alarm('123456789012'))).toEqual(investigation);
    expect(await investigationOf(alarm('210987654321'))).toBeNull();
    expect(await investigationOf(issue({ key: 'ENG-9', project: 'ENG', labels: ['auth'] }))).toBeNull();
  });

  it('without a routing table sends every job to the default repository and branch, as before routing', async () => {
    const plain = new SchedulingService(ingest, { defaultRepositoryUrl: DEFAULT, incidentPolicy: DEFAULT_INCIDENT_POLICY });
    const expected = { repository: DEFAULT, branch: 'main', sparsePaths: [], workerTaskDefinition: null, maxTokens: null };
    expect(await routeOf(plain, issue({ key: 'ENG-5', project: 'ENG', labels: ['auth'] }))).toEqual(expected);
    expect(await routeOf(plain, eventBridgeAlarm({ account: '123456789012', time: new Date('2026-05-12T20:00:00Z') }))).toEqual(expected);
    const trunk = new SchedulingService(ingest, { defaultRepositoryUrl: DEFAULT, defaultRepositoryBranch: 'trunk', incidentPolicy: DEFAULT_INCIDENT_POLICY });
    expect(await routeOf(trunk, issue({ key: 'ENG-6' }))).toMatchObject({ repository: DEFAULT, branch: 'trunk' });
  });

  it("stores the job's claim key and the route's claim limit at decision time, for tickets and incidents", async () => {
    const claimed = new SchedulingService(ingest, {
      defaultRepositoryUrl: DEFAULT,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      routing: {
        ...ROUTING,
        tickets: [{ match: { components: ['Billing'] }, repository: 'https://github.com/acme/mono.git', branch: 'main', sparsePaths: [], claim: 'mono/billing', maxActive: 2 }],
        incidents: [{ account: '123456789012', repository: 'https://github.com/acme/orders.git', branch: 'main', sparsePaths: [], maxActive: 3 }],
      },
    });
    const claimOf = async (body: string): Promise<{ claimKey: string | null; claimLimit: number | null }> => {
      const result = await claimed.submit({ messageId: nextId(), body, receivedAt: new Date() });
      const jobId = result.decisions[0]?.jobId ?? '';
      return prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { claimKey: true, claimLimit: true } });
    };
    expect(await claimOf(issue({ key: 'ENG-7', components: ['Billing'] }))).toEqual({ claimKey: 'mono/billing', claimLimit: 2 });
    expect(await claimOf(issue({ key: 'WEB-8', project: 'WEB', labels: [], components: [] }))).toEqual({
      claimKey: 'https://github.com/acme/platform.git',
      claimLimit: null,
    });
    expect(await claimOf(eventBridgeAlarm({ account: '123456789012', time: new Date('2026-05-12T20:00:00Z') }))).toEqual({
      claimKey: 'https://github.com/acme/orders.git',
      claimLimit: 3,
    });
  });

  it("stores the route's approval: a route that requires it holds its jobs, tickets and incidents alike", async () => {
    const held = new SchedulingService(ingest, {
      defaultRepositoryUrl: DEFAULT,
      incidentPolicy: DEFAULT_INCIDENT_POLICY,
      routing: {
        ...ROUTING,
        tickets: [{ match: { project: 'SEC' }, repository: 'https://github.com/acme/auth.git', branch: 'main', sparsePaths: [], approval: 'required' }],
        incidents: [{ account: '123456789012', repository: 'https://github.com/acme/orders.git', branch: 'main', sparsePaths: [], approval: 'required' }],
      },
    });
    const approvalOf = async (body: string): Promise<string> => {
      const result = await held.submit({ messageId: nextId(), body, receivedAt: new Date() });
      const jobId = result.decisions[0]?.jobId ?? '';
      return (await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { approval: true } })).approval;
    };
    expect(await approvalOf(issue({ key: 'SEC-1', project: 'SEC' }))).toBe('required');
    expect(await approvalOf(issue({ key: 'WEB-9', project: 'WEB', labels: [], components: [] }))).toBe('none');
    expect(await approvalOf(eventBridgeAlarm({ account: '123456789012', time: new Date('2026-05-12T20:00:00Z') }))).toBe('required');
  });

  it('refuses a routing table that breaks the rules', () => {
    expect(
      () =>
        new SchedulingService(ingest, {
          defaultRepositoryUrl: DEFAULT,
          incidentPolicy: DEFAULT_INCIDENT_POLICY,
          routing: { ...ROUTING, tickets: [{ match: {}, repository: 'x', branch: 'main', sparsePaths: ['../up'] }] },
        }),
    ).toThrow('SchedulingService: routing tickets[0].match: must name project, labels or components; routing tickets[0].sparsePaths[0]: must not contain ..');
  });
});
