import { JobApproval, PrismaClient } from '../generated/prisma/client';
import { createPrismaClient } from '../prisma-client';
import { serverUrl, truncateAppTables } from '../../test/support';
import { AdmissionRepository } from './admission.repository';
import { JobActionRepository } from './job-action.repository';
import { JobRepository } from './job.repository';
import { WorkerRepository } from './worker.repository';

const LIMITS = { maxActiveJobs: 10, claimMaxActiveJobs: 1 };
const ALICE = 'alice@example.com';

describe('JobActionRepository (real Postgres)', () => {
  let prisma: PrismaClient;
  let actions: JobActionRepository;
  let admissions: AdmissionRepository;
  let jobs: JobRepository;
  let workers: WorkerRepository;
  let sequence = 0;

  /** A pending ticket job as the scheduler writes it (ticket, delivery, job), on its own repository. */
  async function ticketJob(options: { approval?: JobApproval; repository?: string } = {}): Promise<string> {
    sequence += 1;
    const ticket = await prisma.ticket.create({ data: { key: `ACT-${sequence}`, summary: 's', description: 'd', labels: [], components: [] } });
    const delivery = await prisma.delivery.create({
      data: { sqsMessageId: `actions-${sequence}`, receivedAt: new Date(), body: '{}', classification: 'ticket', ticketId: ticket.id },
    });
    const repository = options.repository ?? `repo-${sequence}.git`;
    const created = await prisma.job.create({
      data: {
        kind: 'ticket',
        key: ticket.key,
        ticketId: ticket.id,
        deliveryId: delivery.id,
        repository,
        claimKey: repository,
        branch: 'main',
        sparsePaths: ['src'],
        maxTokens: 1000,
        taskMarkdown: `# ${ticket.key}: task`,
        approval: options.approval ?? 'none',
      },
    });
    return created.id;
  }

  /** Admits the job and gives it a connected worker, as a launch and handshake would. */
  async function running(jobId: string): Promise<string> {
    const pass = await admissions.admit(LIMITS);
    expect(pass.admitted.map((job) => job.id)).toContain(jobId);
    const worker = await workers.register({ jobId, attempt: 1, launcher: 'local', tokenHash: 'h' });
    await workers.markLaunched(worker.id, '4242');
    await jobs.markRunning(jobId);
    return worker.id;
  }

  const job = (id: string) => prisma.job.findUniqueOrThrow({ where: { id } });
  const recorded = (jobId: string) => prisma.jobAction.findMany({ where: { jobId }, orderBy: { id: 'asc' } });

  beforeAll(() => {
    prisma = createPrismaClient(serverUrl());
    actions = new JobActionRepository(prisma);
    admissions = new AdmissionRepository(prisma);
    jobs = new JobRepository(prisma);
    workers = new WorkerRepository(prisma);
  });
  afterAll(() => prisma.$disconnect());
  beforeEach(() => truncateAppTables(serverUrl()));

  describe('cancel', () => {
    it('ends a waiting job at once, records who and why, and a second cancel changes nothing', async () => {
      const id = await ticketJob();
      const first = await actions.apply('cancel', { jobId: id, actor: ALICE, reason: 'duplicate ticket' });
      expect(first).toMatchObject({ outcome: 'applied', job: { id, status: 'cancelled', waitingReason: null } });
      expect((await job(id)).finishedAt).not.toBeNull();
      expect(await recorded(id)).toEqual([
        expect.objectContaining({ jobId: id, action: 'cancel', actor: ALICE, detail: { step: 'cancel-waiting', reason: 'duplicate ticket' } }),
      ]);

      expect(await actions.apply('cancel', { jobId: id, actor: 'cli:bob' })).toMatchObject({ outcome: 'unchanged', note: 'already cancelled' });
      expect(await recorded(id)).toHaveLength(1);
      // Admission never starts it again.
      expect((await admissions.admit(LIMITS)).admitted).toEqual([]);
    });

    it('asks a running job to stop; its attempt ending then ends the job cancelled, never retried', async () => {
      const id = await ticketJob();
      await running(id);
      expect(await jobs.stopRequested(id)).toBe(false);

      const result = await actions.apply('cancel', { jobId: id, actor: ALICE });
      expect(result).toMatchObject({ outcome: 'applied', job: { status: 'running' } });
      expect(await jobs.stopRequested(id)).toBe(true);
      expect(await actions.apply('cancel', { jobId: id, actor: ALICE })).toMatchObject({ outcome: 'unchanged' });

      const next = await jobs.retryOrFail(id, 1, 'killed by SIGTERM before shutdown', { maxAttempts: 3, retryAt: new Date() });
      expect(next).toBe('cancelled');
      expect(await job(id)).toMatchObject({ status: 'cancelled', attempts: 1, error: 'killed by SIGTERM before shutdown' });
    });

    it("ends a stopped job cancelled even when its worker's Shutdown reports success, keeping what it reported", async () => {
      const id = await ticketJob();
      await running(id);
      await actions.apply('cancel', { jobId: id, actor: ALICE });
      const ended = await jobs.finish(id, { status: 'succeeded', error: null, result: { branch: 'agent/x', title: 't', report: 'r' } });
      expect(ended).toBe('cancelled');
      expect(await job(id)).toMatchObject({ status: 'cancelled', result: { branch: 'agent/x', title: 't', report: 'r' } });
      // A job nobody asked to stop ends as reported.
      const other = await ticketJob();
      await running(other);
      expect(await jobs.finish(other, { status: 'succeeded', error: null })).toBe('succeeded');
    });

    it('refuses a job that ended otherwise (409) and reports an unknown id', async () => {
      const id = await ticketJob();
      await running(id);
      await jobs.finish(id, { status: 'failed', error: 'boom' });
      expect(await actions.apply('cancel', { jobId: id, actor: ALICE })).toMatchObject({
        outcome: 'refused',
        message: `job ${id} has already ended (failed); it cannot be cancelled`,
      });
      expect(await recorded(id)).toEqual([]);
      expect(await actions.apply('cancel', { jobId: '0193a0f0-0000-7000-8000-000000000000', actor: ALICE })).toEqual({ outcome: 'not-found' });
    });

    it('ends cancelled, not pending, a claimed job whose launch never registered a worker, and says which', async () => {
      const id = await ticketJob();
      const untouched = await ticketJob();
      await admissions.admit(LIMITS);
      await actions.apply('cancel', { jobId: id, actor: ALICE });
      const released = await jobs.releaseUnregisteredClaims(new Date(Date.now() + 60_000));
      expect(released).toHaveLength(2);
      expect(released).toEqual(expect.arrayContaining([{ id, status: 'cancelled' }, { id: untouched, status: 'pending' }]));
      expect(await job(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
      expect((await job(id)).finishedAt).not.toBeNull();
      expect(await job(untouched)).toMatchObject({ status: 'pending', attempts: 0, finishedAt: null });
    });

    it('racing an admission pass, never leaves a job launching without the stop request', async () => {
      for (let round = 0; round < 15; round++) {
        await truncateAppTables(serverUrl());
        const id = await ticketJob();
        const [result] = await Promise.all([actions.apply('cancel', { jobId: id, actor: ALICE }), admissions.admit(LIMITS)]);
        expect(result.outcome).toBe('applied');
        const after = await job(id);
        if (after.status === 'cancelled') expect(after.attempts).toBe(0);
        else expect(after).toMatchObject({ status: 'launching', cancelRequestedAt: expect.any(Date) });
      }
    });

    it('lists the stopped jobs whose grace is over, with the live worker of their current attempt', async () => {
      const id = await ticketJob();
      const workerId = await running(id);
      const idle = await ticketJob();
      await running(idle);
      await actions.apply('cancel', { jobId: id, actor: ALICE });
      expect(await actions.overdueCancels(new Date(Date.now() - 60_000))).toEqual([]);
      const overdue = await actions.overdueCancels(new Date(Date.now() + 1000));
      expect(overdue).toEqual([expect.objectContaining({ jobId: id, worker: expect.objectContaining({ id: workerId, launcherHandle: '4242' }) })]);

      await workers.end(workerId, 'gone');
      expect(await actions.overdueCancels(new Date(Date.now() + 1000))).toEqual([expect.objectContaining({ jobId: id, worker: null })]);
      expect(await jobs.endCancelled(id, 'stopped by the conductor')).toBe(true);
      expect(await actions.overdueCancels(new Date(Date.now() + 1000))).toEqual([]);
    });
  });

  describe('rerun', () => {
    it.each(['succeeded', 'failed', 'cancelled'] as const)('re-runs a %s job as a new pending job linked to it, admitted like any other', async (status) => {
      const id = await ticketJob();
      await prisma.job.update({ where: { id }, data: { status, attempts: 2, finishedAt: new Date(), error: 'old' } });
      const result = await actions.apply('rerun', { jobId: id, actor: ALICE, reason: 'flaky' });
      if (result.outcome !== 'applied' || !result.rerun) throw new Error(`not re-run: ${JSON.stringify(result)}`);
      const original = await job(id);
      expect(result.rerun).toMatchObject({
        status: 'pending',
        attempts: 0,
        rerunOfId: id,
        ticketId: null,
        key: original.key,
        kind: 'ticket',
        repository: original.repository,
        branch: 'main',
        sparsePaths: ['src'],
        maxTokens: 1000,
        taskMarkdown: original.taskMarkdown,
        error: null,
        approval: 'none',
      });
      expect(original.status).toBe(status);
      expect(await recorded(id)).toEqual([expect.objectContaining({ action: 'rerun', detail: { step: 'rerun', reason: 'flaky', rerunJobId: result.rerun.id } })]);
      expect((await admissions.admit(LIMITS)).admitted.map((admitted) => admitted.id)).toEqual([result.rerun.id]);
    });

    it('refuses a job that has not ended, and lets a ticket have several re-runs while its own job stays unique', async () => {
      const id = await ticketJob();
      expect(await actions.apply('rerun', { jobId: id, actor: ALICE })).toMatchObject({ outcome: 'refused' });
      await prisma.job.update({ where: { id }, data: { status: 'failed' } });
      await actions.apply('rerun', { jobId: id, actor: ALICE });
      await actions.apply('rerun', { jobId: id, actor: ALICE });
      const original = await job(id);
      expect(await prisma.job.count({ where: { key: original.key } })).toBe(3);
      // The scheduler's own decision still finds one job per ticket.
      await expect(prisma.job.create({ data: { kind: 'ticket', key: original.key, ticketId: original.ticketId, deliveryId: original.deliveryId, repository: 'r', taskMarkdown: '#' } })).rejects.toThrow(/Unique constraint/);
    });
  });

  describe('approve and reject', () => {
    it('holds a job awaiting approval until it is approved, then admits it', async () => {
      const held = await ticketJob({ approval: 'required', repository: 'shared.git' });
      const next = await ticketJob({ repository: 'shared.git' });
      const pass = await admissions.admit(LIMITS);
      expect(pass.admitted.map((admitted) => admitted.id)).toEqual([next]);
      expect((await job(held)).waitingReason).toBe('awaiting approval');

      await jobs.finish(next, { status: 'succeeded' });
      expect(await actions.apply('approve', { jobId: held, actor: ALICE })).toMatchObject({ outcome: 'applied', job: { approval: 'approved', status: 'pending' } });
      expect(await actions.apply('approve', { jobId: held, actor: ALICE })).toMatchObject({ outcome: 'unchanged' });
      expect((await admissions.admit(LIMITS)).admitted.map((admitted) => admitted.id)).toEqual([held]);
      expect(await actions.apply('reject', { jobId: held, actor: ALICE })).toMatchObject({ outcome: 'refused', message: `job ${held} was already approved` });
    });

    it('ends a rejected job cancelled; it can be approved no more, and a job that needs no approval refuses both', async () => {
      const held = await ticketJob({ approval: 'required' });
      expect(await actions.apply('reject', { jobId: held, actor: 'cli:bob', reason: 'not now' })).toMatchObject({
        outcome: 'applied',
        job: { status: 'cancelled', approval: 'rejected' },
      });
      expect(await actions.apply('approve', { jobId: held, actor: ALICE })).toMatchObject({ outcome: 'refused' });
      expect((await admissions.admit(LIMITS)).admitted).toEqual([]);
      expect((await recorded(held)).map((row) => [row.action, row.actor])).toEqual([['reject', 'cli:bob']]);

      const plain = await ticketJob();
      expect(await actions.apply('approve', { jobId: plain, actor: ALICE })).toMatchObject({ outcome: 'refused' });
      expect(await actions.apply('reject', { jobId: plain, actor: ALICE })).toMatchObject({ outcome: 'refused' });
    });

    it('re-runs a rejected job as approved: the re-run is the operator\'s explicit choice', async () => {
      const held = await ticketJob({ approval: 'required' });
      await actions.apply('reject', { jobId: held, actor: ALICE });
      const result = await actions.apply('rerun', { jobId: held, actor: ALICE });
      expect(result).toMatchObject({ outcome: 'applied', rerun: { approval: 'approved', status: 'pending' } });
    });
  });
});
