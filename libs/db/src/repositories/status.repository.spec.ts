import { PrismaClient } from '../generated/prisma/client';
import { createPrismaClient } from '../prisma-client';
import { serverUrl, truncateAppTables } from '../../test/support';
import { IngestRepository } from './ingest.repository';
import { StatusRepository } from './status.repository';

describe('StatusRepository', () => {
  let prisma: PrismaClient;
  let ingest: IngestRepository;

  beforeAll(() => {
    prisma = createPrismaClient(serverUrl());
    ingest = new IngestRepository({ databaseUrl: serverUrl() });
  });
  afterAll(() => Promise.all([prisma.$disconnect(), ingest.close()]));
  beforeEach(() => truncateAppTables(serverUrl()));

  async function ticketJob(key: string): Promise<string> {
    const result = await ingest.recordMessage({
      sqsMessageId: `msg-${key}`,
      receivedAt: new Date(),
      body: '{}',
      classified: {
        classification: 'ticket',
        source: 'jira-issue',
        ticket: { key, externalId: null, projectKey: null, summary: key, description: '', labels: [], components: [], issueType: null, priority: null },
      },
      repository: 'repo.git',
      taskMarkdown: `# ${key}`,
    });
    const jobId = result.decisions[0]?.jobId;
    if (!jobId) {
      throw new Error('no job created');
    }
    return jobId;
  }

  it('is empty on an empty database', async () => {
    expect(await new StatusRepository(prisma).snapshot()).toEqual({ jobs: [], workers: [] });
  });

  it('lists jobs in creation order with their latest worker, result and error', async () => {
    const succeeded = await ticketJob('ENG-1');
    const failed = await ticketJob('ENG-2');
    const pending = await ticketJob('ENG-3');
    await prisma.job.update({
      where: { id: succeeded },
      data: {
        status: 'succeeded',
        attempts: 2,
        // A reason left from before it started is not shown once the job left pending.
        waitingReason: 'waiting for a worker slot (10/10 active)',
        result: { branch: 'fix/eng-1', pullRequest: 'https://github.com/o/r/pull/7', title: 'Fix login' },
        usage: { inputTokens: 1200, cachedInputTokens: 300, outputTokens: 450, turns: 3, durationMs: 61_000, model: 'gpt-5-codex' },
      },
    });
    await prisma.job.update({
      where: { id: failed },
      data: {
        status: 'failed',
        attempts: 1,
        result: { branch: 'fix/eng-2', report: 'Could not reproduce' },
        error: 'agent gave up',
        // A command agent: time only, and the default model.
        usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, turns: 0, durationMs: 4_200, model: null },
      },
    });
    await prisma.job.update({ where: { id: pending }, data: { waitingReason: `waiting for repository claim repo.git (held by job ${failed})` } });
    const lastEventAt = new Date('2026-05-12T10:00:00.123Z');
    const firstWorker = await prisma.worker.create({
      data: { jobId: succeeded, attempt: 1, launcher: 'local', tokenHash: 'h1', state: 'ended', lastEventAt },
    });
    const secondWorker = await prisma.worker.create({
      data: { jobId: succeeded, attempt: 2, launcher: 'local', tokenHash: 'h2', state: 'connected', lastEventAt },
    });

    const snapshot = await new StatusRepository(prisma).snapshot();

    expect(snapshot).toEqual({
      jobs: [
        {
          id: succeeded,
          kind: 'ticket',
          key: 'ENG-1',
          status: 'succeeded',
          attempts: 2,
          repository: 'repo.git',
          workerId: secondWorker.id,
          result: { branch: 'fix/eng-1', pullRequest: 'https://github.com/o/r/pull/7' },
          usage: { inputTokens: 1200, cachedInputTokens: 300, outputTokens: 450, turns: 3, durationMs: 61_000, model: 'gpt-5-codex', contextReused: false },
          error: null,
          waiting: null,
        },
        {
          id: failed,
          kind: 'ticket',
          key: 'ENG-2',
          status: 'failed',
          attempts: 1,
          repository: 'repo.git',
          workerId: null,
          result: { branch: 'fix/eng-2', report: 'Could not reproduce' },
          usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, turns: 0, durationMs: 4_200, model: null, contextReused: false },
          error: 'agent gave up',
          waiting: null,
        },
        {
          id: pending,
          kind: 'ticket',
          key: 'ENG-3',
          status: 'pending',
          attempts: 0,
          repository: 'repo.git',
          workerId: null,
          result: null,
          usage: null,
          error: null,
          waiting: `waiting for repository claim repo.git (held by job ${failed})`,
        },
      ],
      workers: [
        { id: firstWorker.id, jobId: succeeded, state: 'ended', lastEventAt: '2026-05-12T10:00:00.123Z' },
        { id: secondWorker.id, jobId: succeeded, state: 'connected', lastEventAt: '2026-05-12T10:00:00.123Z' },
      ],
    });
    // The CLI prints this document as JSON: it must survive a round trip unchanged.
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });
});
