import { packDirectory, readFileAsChunks, TRANSFER_CHUNK_BYTES, workerV1 } from '@agent-conductor/contracts';
import { StatusRepository, WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { archiveWithTrailingData, END_OF_ARCHIVE, eventually, gzipRepeated, rawTar, resetDatabase, zeroFilledArchive } from '@agent-conductor/testing';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import type { ConductorConfig } from '../src/config/env.validators';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startConductorParts } from './support/conductor-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

function grpcCode(error: unknown): number | undefined {
  return (error as Partial<ServiceError>).code;
}

async function expectCode(promise: Promise<unknown>, code: status): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) throw new Error(`expected gRPC status ${status[code]}, the call succeeded`);
  expect(status[grpcCode(error) ?? -1]).toBe(status[code]);
  return error as ServiceError;
}

describe('WorkerService over gRPC', () => {
  let config: ConductorConfig;
  let app: INestApplication;
  let prisma: PrismaClient;
  let client: TestWorkerClient;
  let scratch: string;

  /** A worker registered the way JobLaunchService does it, with a token only the test knows. */
  async function registeredWorker(
    route: Parameters<typeof createPendingJob>[1] = {},
  ): Promise<{ workerId: string; jobId: string; token: string; credentials: workerV1.WorkerCredentials }> {
    const job = await createPendingJob(prisma, route);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    return { workerId: worker.id, jobId: job.id, token, credentials: { workerId: worker.id, token } };
  }

  /** A handshaken worker; `credentials` carry the session token, `launchCredentials` the spent launch token. */
  async function connectedWorker(): Promise<
    Awaited<ReturnType<typeof registeredWorker>> & { sessionToken: string; launchCredentials: workerV1.WorkerCredentials }
  > {
    const worker = await registeredWorker();
    const { sessionToken } = await client.handshake({ credentials: worker.credentials, workerVersion: 'test', hostname: 'test-host' });
    return { ...worker, sessionToken, launchCredentials: worker.credentials, credentials: { workerId: worker.workerId, token: sessionToken } };
  }

  /** A result archive as the worker would pack it, split into protocol messages. */
  async function uploadMessages(
    credentials: workerV1.WorkerCredentials,
    files: Record<string, string>,
  ): Promise<{ header: workerV1.UploadResultsRequest; chunks: workerV1.UploadResultsRequest[]; sha256: string; bytes: number }> {
    const dir = await mkdtemp(join(scratch, 'pack-'));
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    const archive = join(scratch, `${randomUUID()}.tar.gz`);
    const { bytes, sha256 } = await packDirectory(dir, archive);
    const chunks: workerV1.UploadResultsRequest[] = [];
    for await (const chunk of readFileAsChunks(archive)) chunks.push({ chunk });
    return { header: { header: { credentials, totalSize: bytes, sha256 } }, chunks, sha256, bytes };
  }

  /** tar lets us write entries packDirectory never would: the attacks extraction must stop. */
  async function hostileArchive(entryPath: string): Promise<string> {
    const archive = join(scratch, `${randomUUID()}.tar.gz`);
    const source = await mkdtemp(join(scratch, 'hostile-'));
    await writeFile(join(source, 'payload.txt'), 'owned\n');
    await tar.c(
      {
        gzip: true,
        cwd: source,
        file: archive,
        portable: true,
        onWriteEntry: (entry) => {
          entry.path = entryPath;
        },
      },
      ['payload.txt'],
    );
    return archive;
  }

  async function messagesFor(credentials: workerV1.WorkerCredentials, archive: string): Promise<workerV1.UploadResultsRequest[]> {
    const bytes = await readFile(archive);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const messages: workerV1.UploadResultsRequest[] = [{ header: { credentials, totalSize: bytes.length, sha256 } }];
    for await (const chunk of readFileAsChunks(archive)) messages.push({ chunk });
    return messages;
  }

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    config = await testConfig({ maxUploadBytes: 256 * 1024 });
    scratch = await mkdtemp(join(tmpdir(), 'worker-api-spec-'));
    app = await startConductorParts(config);
    client = new TestWorkerClient(config.grpcListenAddr);
  });

  afterAll(async () => {
    client.close();
    await app.close();
    await prisma.$disconnect();
  });

  describe('authentication', () => {
    it('rejects an unknown worker with UNAUTHENTICATED', async () => {
      await expectCode(client.heartbeat({ credentials: { workerId: randomUUID(), token: 'x' }, phase: 1 }), status.UNAUTHENTICATED);
      await expectCode(client.handshake({ credentials: { workerId: 'not-a-uuid', token: 'x' }, workerVersion: '', hostname: '' }), status.UNAUTHENTICATED);
      await expectCode(client.heartbeat({ credentials: undefined, phase: 1 }), status.UNAUTHENTICATED);
    });

    it('rejects a wrong token with UNAUTHENTICATED', async () => {
      const worker = await registeredWorker();
      await expectCode(
        client.handshake({ credentials: { workerId: worker.workerId, token: newWorkerToken() }, workerVersion: '', hostname: '' }),
        status.UNAUTHENTICATED,
      );
      await expectCode(client.heartbeat({ credentials: { workerId: worker.workerId, token: '' }, phase: 1 }), status.UNAUTHENTICATED);
    });

    it('rejects an ended worker with FAILED_PRECONDITION, but only once its token is right', async () => {
      const worker = await registeredWorker();
      await app.get(WorkerRepository).end(worker.workerId, 'test ended it');
      await expectCode(client.heartbeat({ credentials: worker.credentials, phase: 1 }), status.FAILED_PRECONDITION);
      await expectCode(client.heartbeat({ credentials: { ...worker.credentials, token: 'guess' }, phase: 1 }), status.UNAUTHENTICATED);
    });

    it('refuses every call but Handshake before the handshake', async () => {
      const worker = await registeredWorker();
      await expectCode(client.download({ credentials: worker.credentials }), status.FAILED_PRECONDITION);
      const { header, chunks } = await uploadMessages(worker.credentials, { 'a.txt': 'a' });
      await expectCode(client.upload([header, ...chunks]), status.FAILED_PRECONDITION);
      await expectCode(client.heartbeat({ credentials: worker.credentials, phase: 1 }), status.FAILED_PRECONDITION);
      await expectCode(client.reportAgentError({ credentials: worker.credentials, message: 'early', stage: 'agent' }), status.FAILED_PRECONDITION);
      await expectCode(
        client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result: undefined, error: '' }),
        status.FAILED_PRECONDITION,
      );
      // None of it touched the job or the worker: the handshake still works and starts from a clean slate.
      expect(await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } })).toMatchObject({ status: 'launching', error: null, result: null });
      const row = await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId } });
      expect(row).toMatchObject({ state: 'registered', handshakeAt: null });
      const events = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId }, orderBy: { id: 'asc' } });
      expect(events.map((event) => event.type)).toEqual(['registered']);
      await client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' });
    });
  });

  describe('session token', () => {
    it('exchanges the launch token for a fresh session token, stored only as its hash', async () => {
      const worker = await connectedWorker();
      expect(worker.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(worker.sessionToken).not.toBe(worker.token);
      const row = await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId } });
      expect(row.tokenHash).toBe(hashWorkerToken(worker.sessionToken));
      expect(JSON.stringify(await prisma.worker.findMany())).not.toContain(worker.sessionToken);
    });

    it('accepts only the session token after the handshake: the launch token is dead, a second Handshake too', async () => {
      const worker = await connectedWorker();
      await expectCode(client.handshake({ credentials: worker.launchCredentials, workerVersion: '', hostname: '' }), status.UNAUTHENTICATED);
      await expectCode(client.heartbeat({ credentials: worker.launchCredentials, phase: 1 }), status.UNAUTHENTICATED);
      await expectCode(client.download({ credentials: worker.launchCredentials }), status.UNAUTHENTICATED);
      await expectCode(
        client.shutdown({ credentials: worker.launchCredentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: 'x' }),
        status.UNAUTHENTICATED,
      );
      // The session token is for the session, not for another handshake.
      await expectCode(client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' }), status.FAILED_PRECONDITION);

      expect(await client.heartbeat({ credentials: worker.credentials, phase: 1 })).toEqual({ stopRequested: false });
      expect((await client.download({ credentials: worker.credentials })).length).toBeGreaterThan(0);
      await client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result: undefined, error: '' });
      expect((await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } })).status).toBe('succeeded');
    });

    it('lets exactly one of several simultaneous Handshakes with the launch token win', async () => {
      const worker = await registeredWorker();
      const attempts = await Promise.allSettled(
        Array.from({ length: 4 }, () => client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' })),
      );
      const won = attempts.filter((attempt): attempt is PromiseFulfilledResult<workerV1.HandshakeResponse> => attempt.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const row = await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId } });
      expect(row.tokenHash).toBe(hashWorkerToken(won[0]?.value.sessionToken ?? ''));
    });
  });

  describe('handshake and task files', () => {
    it('connects the worker, starts the job and describes it', async () => {
      const worker = await registeredWorker();
      const response = await client.handshake({ credentials: worker.credentials, workerVersion: '1.2.3', hostname: 'box' });
      const archive = await app.get(TaskArchiveStore).describe(worker.workerId);
      expect(response).toMatchObject({
        jobId: worker.jobId,
        jobKind: workerV1.JobKind.JOB_KIND_TICKET,
        attempt: 1,
        repository: { cloneUrl: 'https://github.com/acme/orders-api.git', defaultBranch: 'main', name: 'acme/orders-api' },
        taskArchiveSize: archive.bytes,
        taskArchiveSha256: archive.sha256,
        heartbeatIntervalMs: config.workerHeartbeatIntervalMs,
        maxUploadBytes: 256 * 1024,
      });
      const row = await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId }, include: { job: true } });
      expect(row.state).toBe('connected');
      expect(row.handshakeAt).not.toBeNull();
      expect(row.job.status).toBe('running');
      expect(row.job.startedAt).not.toBeNull();
    });

    it("hands out the job's route: its branch and sparse paths", async () => {
      const worker = await registeredWorker({
        repository: 'https://github.com/acme/orders.git',
        branch: 'release',
        sparsePaths: ['infra', 'services/orders'],
      });
      const response = await client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' });
      expect(response.repository).toEqual({
        cloneUrl: 'https://github.com/acme/orders.git',
        defaultBranch: 'release',
        sparsePaths: ['infra', 'services/orders'],
        name: 'acme/orders',
      });
    });

    it("hands out the route's token budget, and 0 for a job whose route set none", async () => {
      const budgeted = await registeredWorker();
      await prisma.job.update({ where: { id: budgeted.jobId }, data: { maxTokens: 750_000 } });
      expect((await client.handshake({ credentials: budgeted.credentials, workerVersion: '', hostname: '' })).maxTokens).toBe(750_000);

      const unbudgeted = await registeredWorker();
      expect((await client.handshake({ credentials: unbudgeted.credentials, workerVersion: '', hostname: '' })).maxTokens).toBe(0);
    });

    it("falls back to the conductor's DEFAULT_REPOSITORY_BRANCH and a full clone for a job from before routing", async () => {
      const worker = await registeredWorker();
      await prisma.$executeRaw`UPDATE "jobs" SET "branch" = NULL, "sparse_paths" = NULL WHERE "id" = ${worker.jobId}::uuid`;
      const response = await client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' });
      expect(response.repository).toMatchObject({ defaultBranch: config.defaultRepositoryBranch, sparsePaths: [] });
    });

    it('streams the task archive whose sha256 the handshake announced', async () => {
      const worker = await registeredWorker();
      const { taskArchiveSha256, taskArchiveSize, sessionToken } = await client.handshake({ credentials: worker.credentials, workerVersion: '', hostname: '' });
      const chunks = await client.download({ credentials: { workerId: worker.workerId, token: sessionToken } });
      expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index));
      const bytes = Buffer.concat(chunks.map((chunk) => chunk.data));
      expect(bytes.length).toBe(taskArchiveSize);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(taskArchiveSha256);
      expect(chunks.at(-1)).toMatchObject({ last: true, sha256: taskArchiveSha256, totalSize: taskArchiveSize });

      const extracted = await mkdtemp(join(scratch, 'task-'));
      await writeFile(join(scratch, 'task.tar.gz'), bytes);
      await tar.x({ file: join(scratch, 'task.tar.gz'), cwd: extracted });
      expect((await readdir(extracted)).sort()).toEqual(['AGENTS.md', 'TASK.md']);
      expect(await readFile(join(extracted, 'TASK.md'), 'utf8')).toBe('# Fix the orders endpoint\n');
    });
  });

  describe('UploadResults', () => {
    it('extracts a valid upload into RESULTS_DIR/<jobId>/<workerId>/', async () => {
      const worker = await connectedWorker();
      const big = randomBytes(3 * TRANSFER_CHUNK_BYTES).toString('hex');
      const { header, chunks, bytes } = await uploadMessages(worker.credentials, { 'agent-meta/ending-report.md': '# Done\n', 'logs/big.txt': big });
      expect(chunks.length).toBeGreaterThan(1);
      const response = await client.upload([header, ...chunks]);
      const expectedDir = join(config.resultsDir, worker.jobId, worker.workerId);
      expect(response).toEqual({ receivedBytes: bytes, storedAt: expectedDir });
      expect(await readFile(join(expectedDir, 'agent-meta/ending-report.md'), 'utf8')).toBe('# Done\n');
      expect(await readFile(join(expectedDir, 'logs/big.txt'), 'utf8')).toBe(big);
      expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    });

    it('needs the header first', async () => {
      const worker = await connectedWorker();
      const { chunks } = await uploadMessages(worker.credentials, { 'a.txt': 'a' });
      await expectCode(client.upload(chunks), status.INVALID_ARGUMENT);
    });

    it('rejects out-of-order and duplicate chunks', async () => {
      const worker = await connectedWorker();
      const payload = randomBytes(3 * TRANSFER_CHUNK_BYTES).toString('base64');
      const { header, chunks } = await uploadMessages(worker.credentials, { 'a.txt': payload });
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      const [first, second, ...rest] = chunks;
      if (!first || !second) throw new Error('not enough chunks');
      await expectCode(client.upload([header, second, first, ...rest]), status.INVALID_ARGUMENT);
      await expectCode(client.upload([header, first, first, second, ...rest]), status.INVALID_ARGUMENT);
    });

    it('rejects a checksum that does not match with DATA_LOSS', async () => {
      const worker = await connectedWorker();
      const { header, chunks } = await uploadMessages(worker.credentials, { 'a.txt': 'a' });
      const forged = { header: { ...header.header, credentials: worker.credentials, totalSize: header.header?.totalSize ?? 0, sha256: 'f'.repeat(64) } };
      await expectCode(client.upload([forged, ...chunks]), status.DATA_LOSS);
    });

    it('rejects more than MAX_UPLOAD_BYTES with RESOURCE_EXHAUSTED', async () => {
      const worker = await connectedWorker();
      // Random bytes do not compress, so the archive really is over the 256 KiB limit.
      const { header, chunks, bytes } = await uploadMessages(worker.credentials, { 'big.bin': randomBytes(300 * 1024).toString('latin1') });
      expect(bytes).toBeGreaterThan(256 * 1024);
      await expectCode(client.upload([header, ...chunks]), status.RESOURCE_EXHAUSTED);
      // A header that understates the size does not get past the limit either.
      const lying = { header: { credentials: worker.credentials, totalSize: 1000, sha256: header.header?.sha256 ?? '' } };
      await expectCode(client.upload([lying, ...chunks]), status.INVALID_ARGUMENT);
      expect(existsSync(join(config.resultsDir, worker.jobId))).toBe(false);
    });

    it.each(['../escape.txt', '/tmp/absolute-escape.txt', 'ok/../../escape.txt'])(
      'refuses an archive entry %s and writes nothing outside the results dir',
      async (entryPath) => {
        const worker = await connectedWorker();
        const archive = await hostileArchive(entryPath);
        await expectCode(client.upload(await messagesFor(worker.credentials, archive)), status.INVALID_ARGUMENT);
        expect(existsSync(join(config.resultsDir, 'escape.txt'))).toBe(false);
        expect(existsSync(join(dirname(config.resultsDir), 'escape.txt'))).toBe(false);
        expect(existsSync('/tmp/absolute-escape.txt')).toBe(false);
        expect(existsSync(join(config.resultsDir, worker.jobId))).toBe(false);
        // Extraction happens in a staging directory below .incoming, where "../" would land first.
        expect(existsSync(join(config.resultsDir, '.incoming', 'escape.txt'))).toBe(false);
        expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
        const events = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'upload-rejected' } });
        expect(events).toHaveLength(1);
      },
    );
  });

  describe('hostile uploads', () => {
    /** Upload messages for archive bytes the test built by hand. */
    async function messagesForBytes(credentials: workerV1.WorkerCredentials, bytes: Buffer): Promise<workerV1.UploadResultsRequest[]> {
      const archive = join(scratch, `${randomUUID()}.tar.gz`);
      await writeFile(archive, bytes);
      return messagesFor(credentials, archive);
    }

    it.each([
      // The attack, scaled up: 200 MiB of "A" after the end-of-archive marker in a ~200 KiB upload.
      ['data after the end-of-archive marker', () => archiveWithTrailingData(gzipRepeated(0x41, 200)), status.INVALID_ARGUMENT],
      // Zeros are legal padding, but not 200 MiB of it.
      ['200 MiB of zero padding after the end-of-archive marker', () => archiveWithTrailingData(gzipRepeated(0, 200)), status.INVALID_ARGUMENT],
    ])("refuses %s while other workers' heartbeats keep answering within their interval", async (_name, build, expected) => {
      const hostile = await connectedWorker();
      const bystander = await connectedWorker();
      const bytes = build();
      expect(bytes.length).toBeLessThan(256 * 1024);
      const messages = await messagesForBytes(hostile.credentials, bytes);

      let uploading = true;
      const upload = client.upload(messages).finally(() => {
        uploading = false;
      });
      const latencies: number[] = [];
      while (uploading) {
        const startedAt = performance.now();
        await client.heartbeat({ credentials: bystander.credentials, phase: workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING });
        latencies.push(performance.now() - startedAt);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await expectCode(upload, expected);
      expect(latencies.length).toBeGreaterThan(0);
      // The bar is the interval itself, which a loaded machine clears; a frozen event loop does not.
      expect(Math.max(...latencies)).toBeLessThan(config.workerHeartbeatIntervalMs);
      expect(existsSync(join(config.resultsDir, hostile.jobId))).toBe(false);
      expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    });

    it('refuses a zero-filled 128 MiB file sent as a ~130 KiB upload, from its header', async () => {
      const worker = await connectedWorker();
      const bytes = zeroFilledArchive(128);
      expect(bytes.length).toBeLessThan(256 * 1024);
      const error = await expectCode(client.upload(await messagesForBytes(worker.credentials, bytes)), status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/expands to more than/);
      expect(existsSync(join(config.resultsDir, worker.jobId))).toBe(false);
      expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    });

    it('refuses a symlink pointing out of the results and writes nothing', async () => {
      const worker = await connectedWorker();
      const bytes = gzipSync(Buffer.concat([rawTar([{ path: 'agent-meta/ending-report.md', type: 'SymbolicLink', linkpath: '/etc/shadow' }]), END_OF_ARCHIVE]));
      await expectCode(client.upload(await messagesForBytes(worker.credentials, bytes)), status.INVALID_ARGUMENT);
      expect(existsSync(join(config.resultsDir, worker.jobId))).toBe(false);
    });

    it('strips setuid, setgid and sticky bits from extracted files', async () => {
      const worker = await connectedWorker();
      const bytes = gzipSync(
        Buffer.concat([
          rawTar([
            { path: 'bin', type: 'Directory', mode: 0o1777 },
            { path: 'bin/escalate', type: 'File', data: '#!/bin/sh\nid\n', mode: 0o4755 },
            { path: 'bin/group', type: 'File', data: 'x', mode: 0o2755 },
          ]),
          END_OF_ARCHIVE,
        ]),
      );
      const { storedAt } = await client.upload(await messagesForBytes(worker.credentials, bytes));
      expect((await stat(join(storedAt, 'bin/escalate'))).mode & 0o7777).toBe(0o755);
      expect((await stat(join(storedAt, 'bin/group'))).mode & 0o7777).toBe(0o755);
      expect((await stat(join(storedAt, 'bin'))).mode & 0o7000).toBe(0);
    });

    it('keeps the conductor directories owner-only', async () => {
      const worker = await connectedWorker();
      const { header, chunks } = await uploadMessages(worker.credentials, { 'a.txt': 'a' });
      await client.upload([header, ...chunks]);
      for (const dir of [config.resultsDir, join(config.resultsDir, '.incoming'), join(config.resultsDir, worker.jobId), join(config.runDir, 'tasks')]) {
        expect({ dir, mode: (await stat(dir)).mode & 0o777 }).toEqual({ dir, mode: 0o700 });
      }
    });
  });

  describe('one upload at a time, and none after the end', () => {
    /** Resolves once the conductor has authenticated an upload of `workerId` and written its first chunk. */
    async function uploadUnderWay(workerId: string): Promise<void> {
      await eventually('the upload to be under way', async () => {
        const names = await readdir(join(config.resultsDir, '.incoming')).catch(() => [] as string[]);
        return names.some((name) => name.startsWith(workerId) && name.endsWith('.tar.gz')) ? true : undefined;
      });
    }

    it('refuses a second UploadResults while one is in flight, and takes one again once it is done', async () => {
      const worker = await connectedWorker();
      const { header, chunks } = await uploadMessages(worker.credentials, { 'big.txt': randomBytes(3 * TRANSFER_CHUNK_BYTES).toString('hex') });
      const [first, ...rest] = chunks;
      if (!first || rest.length === 0) throw new Error('not enough chunks');
      const held = client.openUpload();
      held.send(header);
      held.send(first);
      await uploadUnderWay(worker.workerId);

      const second = await uploadMessages(worker.credentials, { 'other.txt': 'other' });
      await expectCode(client.upload([second.header, ...second.chunks]), status.ABORTED);

      for (const chunk of rest) held.send(chunk);
      expect(await held.finish()).toMatchObject({ storedAt: join(config.resultsDir, worker.jobId, worker.workerId) });
      expect(existsSync(join(config.resultsDir, worker.jobId, worker.workerId, 'big.txt'))).toBe(true);
      await client.upload([second.header, ...second.chunks]);
      expect(existsSync(join(config.resultsDir, worker.jobId, worker.workerId, 'other.txt'))).toBe(true);
    });

    it('discards an upload that finishes after the Shutdown, keeping the results the job ended with', async () => {
      const worker = await connectedWorker();
      const final = await uploadMessages(worker.credentials, { 'agent-meta/ending-report.md': '# Final\n' });
      await client.upload([final.header, ...final.chunks]);
      const late = await uploadMessages(worker.credentials, { 'agent-meta/ending-report.md': '# Late\n', 'pad.txt': randomBytes(2 * TRANSFER_CHUNK_BYTES).toString('hex') });
      const [first, ...rest] = late.chunks;
      if (!first || rest.length === 0) throw new Error('not enough chunks');
      const held = client.openUpload();
      held.send(late.header);
      held.send(first);
      await uploadUnderWay(worker.workerId);

      await client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result: undefined, error: '' });
      for (const chunk of rest) held.send(chunk);
      await expectCode(held.finish(), status.FAILED_PRECONDITION);

      const resultsDir = join(config.resultsDir, worker.jobId, worker.workerId);
      expect(await readFile(join(resultsDir, 'agent-meta/ending-report.md'), 'utf8')).toBe('# Final\n');
      expect(existsSync(join(resultsDir, 'pad.txt'))).toBe(false);
      const uploads = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'results-uploaded' } });
      expect(uploads).toHaveLength(1);
      expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    });
  });

  describe('reporting and shutdown', () => {
    it('records heartbeats, agent errors and a failed outcome', async () => {
      const worker = await connectedWorker();
      expect(await client.heartbeat({ credentials: worker.credentials, phase: workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING })).toEqual({
        stopRequested: false,
      });
      await client.reportAgentError({ credentials: worker.credentials, message: 'WAS_JOB_SUCCESSFUL missing', stage: 'validation' });
      let job = await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } });
      expect(job).toMatchObject({ status: 'running', error: 'validation: WAS_JOB_SUCCESSFUL missing' });

      await client.shutdown({
        credentials: worker.credentials,
        outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED,
        result: { branch: '', pullRequest: '', report: 'file:///reports/1.md', title: 'Could not fix', summary: '', agentThreadId: '', changes: [] },
        error: 'agent gave up',
      });
      job = await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } });
      expect(job).toMatchObject({ status: 'failed', error: 'agent gave up', result: { branch: '', report: 'file:///reports/1.md', title: 'Could not fix' } });
      expect(job.finishedAt).not.toBeNull();
      const row = await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId } });
      expect(row).toMatchObject({ state: 'ended', endReason: 'shutdown: failed' });
    });

    it('marks every heartbeat as a sign of life, and records a heartbeat event only when the phase changes', async () => {
      const worker = await connectedWorker();
      const lastEventAt = async (): Promise<number> =>
        (await prisma.worker.findUniqueOrThrow({ where: { id: worker.workerId } })).lastEventAt.getTime();
      const phases = [
        workerV1.WorkerPhase.WORKER_PHASE_PREPARING,
        workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING,
        workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING,
        workerV1.WorkerPhase.WORKER_PHASE_AGENT_RUNNING,
        workerV1.WorkerPhase.WORKER_PHASE_PUBLISHING,
      ];
      let previous = await lastEventAt();
      for (const phase of phases) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect(await client.heartbeat({ credentials: worker.credentials, phase })).toEqual({ stopRequested: false });
        const current = await lastEventAt();
        expect(current).toBeGreaterThan(previous);
        previous = current;
      }
      const events = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId, type: 'heartbeat' }, orderBy: { id: 'asc' } });
      expect(events.map((event) => event.detail)).toEqual([
        { phase: 'WORKER_PHASE_PREPARING' },
        { phase: 'WORKER_PHASE_AGENT_RUNNING' },
        { phase: 'WORKER_PHASE_PUBLISHING' },
      ]);
    });

    it("stores the agent's usage from the Shutdown on the job, where the status snapshot shows it", async () => {
      const worker = await connectedWorker();
      const unused = await connectedWorker();
      await client.shutdown({
        credentials: worker.credentials,
        outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
        result: { branch: 'feature/x', pullRequest: 'https://example.test/pr/2', report: '', title: 'Done', summary: '', agentThreadId: '', changes: [] },
        error: '',
        usage: { inputTokens: 12_345, cachedInputTokens: 2_000, outputTokens: 678, turns: 4, durationMs: 93_500, model: 'gpt-5-codex', contextReused: false },
      });
      // An agent that never ran reports no usage; a command agent's default model is ''.
      await client.shutdown({ credentials: unused.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: 'clone failed' });

      const usage = { inputTokens: 12_345, cachedInputTokens: 2_000, outputTokens: 678, turns: 4, durationMs: 93_500, model: 'gpt-5-codex', contextReused: false };
      expect((await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } })).usage).toEqual(usage);
      const snapshot = await new StatusRepository(prisma).snapshot();
      expect(snapshot.jobs.find((job) => job.id === worker.jobId)?.usage).toEqual(usage);
      expect(snapshot.jobs.find((job) => job.id === unused.jobId)?.usage).toBeNull();
    });

    it('records a successful outcome, then treats the worker as ended', async () => {
      const worker = await connectedWorker();
      await client.shutdown({
        credentials: worker.credentials,
        outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED,
        result: { branch: `worker/${worker.workerId}/fix`, pullRequest: 'https://example.test/pr/1', report: '', title: 'Fix it', summary: '', agentThreadId: '', changes: [] },
        error: '',
      });
      const job = await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } });
      expect(job).toMatchObject({
        status: 'succeeded',
        error: null,
        result: { branch: `worker/${worker.workerId}/fix`, pullRequest: 'https://example.test/pr/1', title: 'Fix it' },
      });
      await expectCode(
        client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_FAILED, result: undefined, error: 'late' }),
        status.FAILED_PRECONDITION,
      );
      expect((await prisma.job.findUniqueOrThrow({ where: { id: worker.jobId } })).status).toBe('succeeded');
    });

    it('records every call as a worker event and never the token', async () => {
      const worker = await connectedWorker();
      await client.download({ credentials: worker.credentials });
      await client.heartbeat({ credentials: worker.credentials, phase: 1 });
      const { header, chunks } = await uploadMessages(worker.credentials, { 'a.txt': 'a' });
      await client.upload([header, ...chunks]);
      await client.shutdown({ credentials: worker.credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result: undefined, error: '' });
      const events = await prisma.workerEvent.findMany({ where: { workerId: worker.workerId }, orderBy: { id: 'asc' } });
      expect(events.map((event) => event.type)).toEqual([
        'registered',
        'handshake',
        'task-files-sent',
        'heartbeat',
        'results-uploaded',
        'shutdown',
      ]);
      const everything = JSON.stringify(await prisma.$queryRaw`SELECT * FROM worker_events`, (_key, value: unknown) =>
        typeof value === 'bigint' ? value.toString() : value,
      );
      expect(everything).not.toContain(worker.token);
      expect(everything).not.toContain(worker.sessionToken);
      const workersTable = JSON.stringify(await prisma.worker.findMany());
      expect(workersTable).not.toContain(worker.token);
      expect(workersTable).not.toContain(worker.sessionToken);
      expect(workersTable).toContain(hashWorkerToken(worker.sessionToken));
    });
  });
});
