import { createPrismaClient, IngestRepository, PrismaClient } from '@agent-conductor/db';
import { RoutingTable } from '@agent-conductor/scheduling-domain';
import { DEFAULT_INCIDENT_POLICY, SchedulingService } from '../src';
import { databaseUrl, emptyTables, eventBridgeAlarm } from './support';

const MINUTE = 60_000;
const T0 = Date.parse('2026-05-12T20:00:00.000Z');
const at = (minutes: number): Date => new Date(T0 + minutes * MINUTE);
const ACCOUNTS = ['111111111111', '222222222222', '333333333333'];

const ROUTING: RoutingTable = {
  default: { repository: 'https://github.com/acme/platform.git', branch: 'main', sparsePaths: [] },
  tickets: [],
  incidents: ACCOUNTS.map((account) => ({
    account,
    group: 'shop',
    repository: `https://github.com/acme/service-${account.slice(0, 1)}.git`,
    branch: 'main',
    sparsePaths: [],
  })),
};

// Each service ingests through a pg pool of its own (separate connections, like scheduler replicas).
const ingestRepositories: IngestRepository[] = [];
afterAll(() => Promise.all(ingestRepositories.splice(0).map((repository) => repository.close())));

function replica(): SchedulingService {
  const ingest = new IngestRepository({ databaseUrl: databaseUrl() });
  ingestRepositories.push(ingest);
  return new SchedulingService(ingest, { defaultRepositoryUrl: '', incidentPolicy: DEFAULT_INCIDENT_POLICY, routing: ROUTING });
}

describe('SchedulingService: a group of accounts under concurrency (real Postgres)', () => {
  let prisma: PrismaClient;
  const replicas: SchedulingService[] = [];

  beforeAll(async () => {
    prisma = createPrismaClient(databaseUrl());
    await emptyTables(prisma);
    for (let i = 0; i < ACCOUNTS.length; i += 1) replicas.push(replica());
  });
  afterAll(async () => {
    await prisma?.$disconnect();
  });

  it("makes one job per window when the group's accounts alarm at once through different replicas (the group's lock)", async () => {
    const rounds = 8;
    for (let round = 0; round < rounds; round += 1) {
      // Rounds are 3 hours apart: out of each other's reach.
      await Promise.all(
        ACCOUNTS.map((account, index) =>
          (replicas[index] as SchedulingService).submit({
            messageId: `race-${round}-${account}`,
            body: eventBridgeAlarm({ account, time: at(round * 180 + index), name: `alarm-${index}` }),
            receivedAt: new Date(),
          }),
        ),
      );
    }
    expect(await prisma.job.count()).toBe(rounds);
    expect(await prisma.incident.count()).toBe(rounds * ACCOUNTS.length);
    const jobs = await prisma.job.findMany({ include: { incidents: true } });
    for (const job of jobs) {
      expect(job.incidents.map((incident) => incident.account).sort()).toEqual(ACCOUNTS);
      expect((job.repositories as Array<{ url: string }>).map((entry) => entry.url).sort()).toEqual(ACCOUNTS.map((account) => `https://github.com/acme/service-${account.slice(0, 1)}.git`));
      for (const index of [0, 1, 2]) expect(job.taskMarkdown).toContain(`alarm-${index}`);
    }
  });

  it('reports attached, joined and spawned, and the same on redelivery', async () => {
    await emptyTables(prisma);
    const [a, b] = ACCOUNTS as [string, string];
    const service = replicas[0] as SchedulingService;
    const message = (id: string, account: string, minutes: number) => ({ messageId: id, body: eventBridgeAlarm({ account, time: at(minutes) }), receivedAt: new Date() });
    const spawned = await service.submit(message('outcome-a', a, 0));
    const jobId = spawned.decisions[0]?.jobId;
    const attached = await service.submit(message('outcome-b', b, 10));
    const joined = await service.submit(message('outcome-b2', b, 20));
    expect([spawned.alarm?.outcome, attached.alarm?.outcome, joined.alarm?.outcome]).toEqual(['spawned', 'attached', 'joined']);
    expect(attached.alarm).toMatchObject({ jobId });
    expect(attached.alarm?.incidentId).not.toBe(spawned.decisions[0]?.incidentId);
    expect(joined.alarm?.incidentId).toBe(attached.alarm?.incidentId);

    const again = await Promise.all(['outcome-a', 'outcome-b', 'outcome-b2'].map((id, index) => service.submit(message(id, index === 0 ? a : b, index * 10))));
    expect(again.map((result) => [result.duplicate, result.alarm?.outcome, result.alarm?.jobId, result.decisions.length])).toEqual([
      [true, 'spawned', undefined, 1],
      [true, 'attached', jobId, 0],
      [true, 'joined', undefined, 0],
    ]);
    expect(again[0]?.decisions[0]).toMatchObject({ jobId, incidentId: spawned.decisions[0]?.incidentId });
    expect(await prisma.job.count()).toBe(1);
  });
});
