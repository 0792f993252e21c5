import { packDirectory, readFileAsChunks, workerV1 } from '@agent-conductor/contracts';
import { WorkerRepository, type PrismaClient } from '@agent-conductor/db';
import { resetDatabase } from '@agent-conductor/testing';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { INestApplication } from '@nestjs/common';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { CONDUCTOR_CONFIG } from '../src/config/config.module';
import { ResultRetentionService } from '../src/results/result-retention.service';
import { hashWorkerToken, newWorkerToken } from '../src/common/worker-token';
import { loadConductorConfig, type ConductorConfig } from '../src/config/env.validators';
import { TaskArchiveStore } from '../src/launch/task-archive.store';
import { startDurableConductor } from './support/durable-parts';
import { createPendingJob, testConfig, testPrisma } from './support/fixtures';
import { TestWorkerClient } from './support/worker-client';

describe('result archives', () => {
  let prisma: PrismaClient;
  let app: INestApplication | undefined;
  let client: TestWorkerClient | undefined;
  const s3 = mockClient(S3Client);

  async function start(overrides: Partial<ConductorConfig>): Promise<{ app: INestApplication; config: ConductorConfig }> {
    const config = await testConfig({ orphanCheckIntervalMs: 3_600_000, ...overrides });
    app = await startDurableConductor(config);
    client = new TestWorkerClient(config.grpcListenAddr);
    return { app, config };
  }

  /** A connected worker, then an upload of a small archive and a successful Shutdown. */
  async function uploadAndShutdown(app: INestApplication): Promise<{ jobId: string; workerId: string; credentials: workerV1.WorkerCredentials; upload: Promise<workerV1.UploadResultsResponse> }> {
    const job = await createPendingJob(prisma);
    await prisma.job.update({ where: { id: job.id }, data: { status: 'launching', attempts: 1 } });
    const token = newWorkerToken();
    const worker = await app.get(WorkerRepository).register({ jobId: job.id, attempt: 1, launcher: 'local', tokenHash: hashWorkerToken(token) });
    await app.get(TaskArchiveStore).build(worker.id, { taskMarkdown: job.taskMarkdown, agentsMarkdown: '# Agents\n' });
    const handshake = await client?.handshake({ credentials: { workerId: worker.id, token }, workerVersion: 'test', hostname: 'test' });
    const credentials = { workerId: worker.id, token: handshake?.sessionToken ?? '' };
    const dir = await mkdtemp(join(tmpdir(), 'results-spec-'));
    await mkdir(join(dir, 'agent-meta'));
    await writeFile(join(dir, 'agent-meta', 'ending-report.md'), '# Report\n');
    const archive = join(tmpdir(), `${randomUUID()}.tar.gz`);
    const { bytes, sha256 } = await packDirectory(dir, archive);
    const messages: workerV1.UploadResultsRequest[] = [{ header: { credentials, totalSize: bytes, sha256 } }];
    for await (const chunk of readFileAsChunks(archive)) messages.push({ chunk });
    const upload = client?.upload(messages) ?? Promise.reject(new Error('no client'));
    return { jobId: job.id, workerId: worker.id, credentials, upload };
  }

  beforeAll(() => {
    prisma = testPrisma();
  });

  beforeEach(async () => {
    await resetDatabase(prisma);
    s3.reset();
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await app?.close();
    app = undefined;
  });

  async function restart(overrides: Partial<ConductorConfig>): Promise<{ app: INestApplication; config: ConductorConfig }> {
    client?.close();
    await app?.close();
    return start(overrides);
  }

  /** What the pruner counts: allocated blocks of the tree. */
  async function duBytes(path: string): Promise<number> {
    const info = await lstat(path);
    let bytes = info.blocks * 512;
    if (info.isDirectory()) for (const name of await readdir(path)) bytes += await duBytes(join(path, name));
    return bytes;
  }

  afterAll(async () => {
    s3.restore();
    await prisma.$disconnect();
  });

  it('keeps each attempt as one archive under RESULTS_DIR by default and records where in the job result', async () => {
    const { app, config } = await start({});
    const { jobId, workerId, credentials, upload } = await uploadAndShutdown(app);
    await upload;
    const expected = join(config.resultsDir, 'archives', jobId, `attempt-1-${workerId}.tar.gz`);
    expect(existsSync(expected)).toBe(true);
    expect((await readFile(expected)).length).toBeGreaterThan(0);
    const events = await prisma.workerEvent.findMany({ where: { workerId, type: 'results-uploaded' } });
    expect(events[0]?.detail).toMatchObject({ archive: expected });
    await client?.shutdown({ credentials, outcome: workerV1.JobOutcome.JOB_OUTCOME_SUCCEEDED, result: { branch: 'feature/x', title: 'Done', report: 'ok', pullRequest: '', summary: '', agentThreadId: '', changes: [] }, error: '' });
    expect((await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).result).toEqual({ resultArchive: expected, branch: 'feature/x', report: 'ok', title: 'Done' });
  });

  it('selects S3 by RESULT_STORE=s3 and writes the archive to the bucket', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"etag"' });
    const fromEnv = loadConductorConfig({ NODE_ENV: 'test', RESULT_STORE: 's3', RESULTS_BUCKET: 'agent-results', RESULTS_PREFIX: 'prod', AWS_REGION: 'eu-west-1' });
    const { app } = await start({ resultStore: fromEnv.resultStore });
    const { jobId, workerId, upload } = await uploadAndShutdown(app);
    await upload;
    const puts = s3.commandCalls(PutObjectCommand);
    // The archive, then its agent session alone beside it (docs/context-reuse.md).
    expect(puts.map((put) => put.args[0].input.Key)).toEqual([`prod/results/${jobId}/attempt-1-${workerId}.tar.gz`, `prod/results/${jobId}/attempt-1-${workerId}.agent-session.tar.gz`]);
    expect(puts[0]?.args[0].input).toMatchObject({
      Bucket: 'agent-results',
      Key: `prod/results/${jobId}/attempt-1-${workerId}.tar.gz`,
      ContentType: 'application/gzip',
      ServerSideEncryption: 'AES256',
    });
    const events = await prisma.workerEvent.findMany({ where: { workerId, type: 'results-uploaded' } });
    expect(events[0]?.detail).toMatchObject({ archive: `s3://agent-results/prod/results/${jobId}/attempt-1-${workerId}.tar.gz` });
  });

  it('answers UNAVAILABLE when S3 fails, so the worker sends the upload again', async () => {
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const fromEnv = loadConductorConfig({ NODE_ENV: 'test', RESULT_STORE: 's3', RESULTS_BUCKET: 'agent-results', AWS_REGION: 'eu-west-1' });
    const { app } = await start({ resultStore: fromEnv.resultStore });
    const { upload } = await uploadAndShutdown(app);
    await expect(upload).rejects.toMatchObject({ code: 14 });
  });

  it('answers UNAVAILABLE when only the session object cannot be stored, and records no results until both are', async () => {
    s3.on(PutObjectCommand).callsFake((input: { Key?: string }) => {
      if (input.Key?.endsWith('.agent-session.tar.gz')) throw new Error('SlowDown');
      return { ETag: '"etag"' };
    });
    const fromEnv = loadConductorConfig({ NODE_ENV: 'test', RESULT_STORE: 's3', RESULTS_BUCKET: 'agent-results', AWS_REGION: 'eu-west-1' });
    const { app, config } = await start({ resultStore: fromEnv.resultStore });
    const { workerId, upload } = await uploadAndShutdown(app);
    await expect(upload).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(await prisma.workerEvent.count({ where: { workerId, type: 'results-uploaded' } })).toBe(0);
    expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
  });

  it('refuses RESULT_STORE=s3 without a bucket at boot', () => {
    expect(() => loadConductorConfig({ RESULT_STORE: 's3' })).toThrow(/RESULT_STORE: s3 needs .*RESULTS_BUCKET is required/);
  });

  it('removes a partial upload an interrupted conductor left behind when it starts again', async () => {
    const config = await testConfig({ orphanCheckIntervalMs: 3_600_000 });
    const incoming = join(config.resultsDir, '.incoming');
    await mkdir(incoming, { recursive: true });
    const stale = join(incoming, 'worker-partial.tar.gz');
    const fresh = join(incoming, 'worker-live.tar.gz');
    await writeFile(stale, 'half an archive');
    await writeFile(fresh, 'an upload in progress elsewhere');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(stale, anHourAgo, anHourAgo);
    app = await startDurableConductor(config);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it('deletes the extraction once the archive is in S3: nothing of the upload stays on the conductor', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"etag"' });
    const fromEnv = loadConductorConfig({ NODE_ENV: 'test', RESULT_STORE: 's3', RESULTS_BUCKET: 'agent-results', AWS_REGION: 'eu-west-1' });
    const { app, config } = await start({ resultStore: fromEnv.resultStore });
    const { jobId, workerId, upload } = await uploadAndShutdown(app);
    const location = `s3://agent-results/results/${jobId}/attempt-1-${workerId}.tar.gz`;
    expect(await upload).toMatchObject({ storedAt: location });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(existsSync(join(config.resultsDir, jobId))).toBe(false);
    expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    const events = await prisma.workerEvent.findMany({ where: { workerId, type: 'results-uploaded' } });
    expect(events[0]?.detail).toMatchObject({ storedAt: location, archive: location });
  });

  it('refuses an upload with RESOURCE_EXHAUSTED when RESULTS_DIR would drop below RESULTS_MIN_FREE_BYTES', async () => {
    const { app, config } = await start({ resultsMinFreeBytes: Number.MAX_SAFE_INTEGER });
    const { jobId, workerId, upload } = await uploadAndShutdown(app);
    await expect(upload).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(existsSync(join(config.resultsDir, jobId))).toBe(false);
    expect(await readdir(join(config.resultsDir, '.incoming'))).toEqual([]);
    const events = await prisma.workerEvent.findMany({ where: { workerId, type: 'upload-rejected' } });
    expect(events[0]?.detail).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });

  describe('retention of extracted results (RESULT_STORE=directory)', () => {
    const DAY_MS = 24 * 3_600_000;

    /** Uploads results for a fresh job and dates its extraction `ageMs` back. */
    async function extractedResult(app: INestApplication, ageMs: number): Promise<string> {
      const { upload } = await uploadAndShutdown(app);
      const { storedAt } = await upload;
      const then = new Date(Date.now() - ageMs);
      await utimes(storedAt, then, then);
      return storedAt;
    }

    it('prunes extractions older than RESULTS_RETENTION_DAYS and keeps the archives, each with its session object', async () => {
      const { app, config } = await start({ resultsRetentionMs: 7 * DAY_MS, resultsMaxBytes: Number.MAX_SAFE_INTEGER });
      const old = await extractedResult(app, 8 * DAY_MS);
      const recent = await extractedResult(app, 6 * DAY_MS);
      expect(await app.get(ResultRetentionService).prune()).toMatchObject({ removed: 1 });
      expect(existsSync(old)).toBe(false);
      // The emptied job directory goes too; the archive, the job's record, stays.
      expect(existsSync(dirname(old))).toBe(false);
      expect(existsSync(recent)).toBe(true);
      expect((await readdir(join(config.resultsDir, 'archives'))).length).toBe(2);
      const oldJob = basename(dirname(old));
      const oldWorker = basename(old);
      expect((await readdir(join(config.resultsDir, 'archives', oldJob))).sort()).toEqual([`attempt-1-${oldWorker}.agent-session.tar.gz`, `attempt-1-${oldWorker}.tar.gz`]);
    });

    it('past RESULTS_MAX_BYTES, prunes the oldest first', async () => {
      const { app } = await start({ resultsRetentionMs: 30 * DAY_MS, resultsMaxBytes: 1 });
      const oldest = await extractedResult(app, 3 * DAY_MS);
      const middle = await extractedResult(app, 2 * DAY_MS);
      const newest = await extractedResult(app, DAY_MS);
      const retention = app.get(ResultRetentionService);
      expect(await retention.prune()).toMatchObject({ removed: 3, keptBytes: 0 });
      expect([oldest, middle, newest].map((path) => existsSync(path))).toEqual([false, false, false]);

      const { app: roomy } = await restart({ resultsRetentionMs: 30 * DAY_MS });
      const first = await extractedResult(roomy, 3 * DAY_MS);
      const second = await extractedResult(roomy, 2 * DAY_MS);
      const third = await extractedResult(roomy, DAY_MS);
      const sizes = await Promise.all([first, second, third].map((path) => duBytes(path)));
      // Room for the two newest only.
      (roomy.get(CONDUCTOR_CONFIG) as ConductorConfig).resultsMaxBytes = (sizes[1] ?? 0) + (sizes[2] ?? 0);
      expect(await roomy.get(ResultRetentionService).prune()).toMatchObject({ removed: 1 });
      expect([first, second, third].map((path) => existsSync(path))).toEqual([false, true, true]);
    });
  });
});
