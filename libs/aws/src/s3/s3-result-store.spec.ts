import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createS3Client } from './s3-client';
import { s3ResultStoreFromEnv } from './s3-env';
import { S3ResultStore } from './s3-result-store';

const JOB_ID = '3f1c2a9e-7b4d-4e0a-9c1b-2d3e4f5a6b7c';
const WORKER_ID = '8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d';
const KEY = { jobId: JOB_ID, workerId: WORKER_ID, attempt: 3 };
const OBJECT_KEY = `prod/results/${JOB_ID}/attempt-3-${WORKER_ID}.tar.gz`;
const MIB = 1024 * 1024;

function bytesOf(body: unknown): Buffer {
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new Error(`expected a byte body, got ${typeof body}`);
}

/** A GetObject body as the SDK hands it over: a stream with the SDK's transform methods. */
function s3Body(bytes: Buffer): Readable & { transformToByteArray(): Promise<Uint8Array>; transformToString(): Promise<string>; transformToWebStream(): ReadableStream } {
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async () => bytes.toString(),
    transformToWebStream: () => new ReadableStream(),
  });
}

describe('S3ResultStore with a mocked S3 client', () => {
  const s3 = createS3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const s3Mock = mockClient(s3);
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-result-store-'));
  });
  afterAll(async () => {
    s3Mock.restore();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => s3Mock.reset());

  const archive = async (name: string, size: number): Promise<{ path: string; content: Buffer }> => {
    const content = randomBytes(size);
    const path = join(dir, name);
    await writeFile(path, content);
    return { path, content };
  };

  it('writes a small archive with one PutObject, AES256-encrypted, under the attempt key', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const { path, content } = await archive('small.tar.gz', 64 * 1024);
    const store = new S3ResultStore(s3, { bucket: 'results-bucket', prefix: 'prod' });

    await expect(store.store(KEY, path)).resolves.toEqual({ location: `s3://results-bucket/${OBJECT_KEY}` });

    const calls = s3Mock.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    const { Body, ...input } = calls[0]?.args[0].input ?? {};
    expect(input).toEqual({
      Bucket: 'results-bucket',
      Key: OBJECT_KEY,
      ContentType: 'application/gzip',
      ServerSideEncryption: 'AES256',
      Metadata: { 'job-id': JOB_ID, 'worker-id': WORKER_ID, attempt: '3' },
    });
    expect(bytesOf(Body).equals(content)).toBe(true);
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('uses aws:kms with the configured key', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const { path } = await archive('kms.tar.gz', 1024);
    await new S3ResultStore(s3, { bucket: 'results-bucket', kmsKeyId: 'alias/results' }).store(KEY, path);

    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.ServerSideEncryption).toBe('aws:kms');
    expect(input?.SSEKMSKeyId).toBe('alias/results');
    expect(input?.Key).toBe(`results/${JOB_ID}/attempt-3-${WORKER_ID}.tar.gz`);
  });

  it('streams a file over 5 MiB as a multipart upload, one 5 MiB part at a time', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber?: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ Location: 'ignored' });
    const { path, content } = await archive('large.tar.gz', 5 * MIB + 300 * 1024);
    const store = new S3ResultStore(s3, { bucket: 'results-bucket', prefix: 'prod/' });

    await expect(store.store(KEY, path)).resolves.toEqual({ location: `s3://results-bucket/${OBJECT_KEY}` });

    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    const create = s3Mock.commandCalls(CreateMultipartUploadCommand);
    expect(create).toHaveLength(1);
    expect(create[0]?.args[0].input).toEqual({
      Bucket: 'results-bucket',
      Key: OBJECT_KEY,
      ContentType: 'application/gzip',
      ServerSideEncryption: 'AES256',
      Metadata: { 'job-id': JOB_ID, 'worker-id': WORKER_ID, attempt: '3' },
      // lib-storage asks for a checksum per part (the SDK's requestChecksumCalculation WHEN_SUPPORTED default).
      ChecksumAlgorithm: 'CRC32',
    });

    const parts = s3Mock
      .commandCalls(UploadPartCommand)
      .map((call) => call.args[0].input)
      .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    expect(parts.map((part) => [part.Bucket, part.Key, part.UploadId, part.PartNumber])).toEqual([
      ['results-bucket', OBJECT_KEY, 'upload-1', 1],
      ['results-bucket', OBJECT_KEY, 'upload-1', 2],
    ]);
    expect(parts.map((part) => bytesOf(part.Body).length)).toEqual([5 * MIB, 300 * 1024]);
    expect(Buffer.concat(parts.map((part) => bytesOf(part.Body))).equals(content)).toBe(true);

    const complete = s3Mock.commandCalls(CompleteMultipartUploadCommand);
    expect(complete).toHaveLength(1);
    expect(complete[0]?.args[0].input).toMatchObject({
      Bucket: 'results-bucket',
      Key: OBJECT_KEY,
      UploadId: 'upload-1',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"etag-1"' }, { PartNumber: 2, ETag: '"etag-2"' }] },
    });
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts the multipart upload and rejects when a part fails', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
    s3Mock
      .on(UploadPartCommand)
      .rejects(new S3ServiceException({ name: 'InternalError', $fault: 'server', message: 'part lost', $metadata: {} }));
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
    const { path } = await archive('broken.tar.gz', 6 * MIB);

    await expect(new S3ResultStore(s3, { bucket: 'results-bucket', prefix: 'prod' }).store(KEY, path)).rejects.toThrow('part lost');

    expect(s3Mock.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'results-bucket', Key: OBJECT_KEY, UploadId: 'upload-2' },
    ]);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('rejects ids that could leave the results prefix, before any S3 call', async () => {
    const { path } = await archive('evil.tar.gz', 10);
    const store = new S3ResultStore(s3, { bucket: 'results-bucket' });
    await expect(store.store({ ...KEY, jobId: '../../other-bucket-prefix' }, path)).rejects.toThrow(/invalid jobId/);
    await expect(store.store({ ...KEY, workerId: 'a/b' }, path)).rejects.toThrow(/invalid workerId/);
    await expect(store.store({ ...KEY, attempt: 0 }, path)).rejects.toThrow(/invalid attempt/);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('rejects a missing archive without starting an upload', async () => {
    await expect(new S3ResultStore(s3, { bucket: 'results-bucket' }).store(KEY, join(dir, 'absent.tar.gz'))).rejects.toThrow(/ENOENT/);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('opens a stored archive as a stream, and answers undefined when there is none', async () => {
    const bytes = Buffer.from('archive bytes');
    const body = s3Body(bytes);
    s3Mock.on(GetObjectCommand).resolvesOnce({ Body: body }).rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const store = new S3ResultStore(s3, { bucket: 'results-bucket', prefix: 'prod' });

    const stream = await store.open(KEY);
    expect(stream ? await text(stream) : undefined).toBe('archive bytes');
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({ Bucket: 'results-bucket', Key: OBJECT_KEY });
    await expect(store.open(KEY)).resolves.toBeUndefined();
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'Access Denied' }));
    await expect(store.open(KEY)).rejects.toThrow(/Access Denied/);
  });

  it('keeps the agent session beside the archive under the same results/ prefix, and opens each by its own key', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const { path, content } = await archive('session.tar.gz', 2048);
    const bytes = Buffer.from('session bytes');
    const body = s3Body(bytes);
    s3Mock.on(GetObjectCommand).resolvesOnce({ Body: body }).rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const store = new S3ResultStore(s3, { bucket: 'results-bucket', prefix: 'prod' });
    const sessionKey = `prod/results/${JOB_ID}/attempt-3-${WORKER_ID}.agent-session.tar.gz`;

    await expect(store.storeSession(KEY, path)).resolves.toEqual({ location: `s3://results-bucket/${sessionKey}` });
    const { Body, ...input } = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input ?? {};
    expect(input).toEqual({
      Bucket: 'results-bucket',
      Key: sessionKey,
      ContentType: 'application/gzip',
      ServerSideEncryption: 'AES256',
      Metadata: { 'job-id': JOB_ID, 'worker-id': WORKER_ID, attempt: '3' },
    });
    expect(bytesOf(Body).equals(content)).toBe(true);

    const stream = await store.openSession(KEY);
    expect(stream ? await text(stream) : undefined).toBe('session bytes');
    await expect(store.openSession(KEY)).resolves.toBeUndefined();
    expect(s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'results-bucket', Key: sessionKey },
      { Bucket: 'results-bucket', Key: sessionKey },
    ]);
  });

  it('refuses a prefix that escapes or starts at the root', () => {
    expect(() => new S3ResultStore(s3, { bucket: 'b', prefix: '/abs' })).toThrow(/prefix/);
    expect(() => new S3ResultStore(s3, { bucket: 'b', prefix: 'a/../b' })).toThrow(/prefix/);
    expect(() => new S3ResultStore(s3, { bucket: '' })).toThrow(/bucket/);
  });
});

describe('s3ResultStoreFromEnv', () => {
  it('builds client options and store config from the environment', () => {
    expect(
      s3ResultStoreFromEnv({
        RESULTS_BUCKET: 'results-bucket',
        RESULTS_PREFIX: 'prod/',
        RESULTS_KMS_KEY_ID: 'alias/results',
        AWS_REGION: 'eu-west-1',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_FORCE_PATH_STYLE: 'true',
      }),
    ).toEqual({
      client: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
      store: { bucket: 'results-bucket', prefix: 'prod/', kmsKeyId: 'alias/results' },
    });
  });

  it('reports every problem at once', () => {
    expect(() => s3ResultStoreFromEnv({ S3_FORCE_PATH_STYLE: 'yes' })).toThrow(
      'invalid S3 result store environment: RESULTS_BUCKET is required; AWS_REGION is required; S3_FORCE_PATH_STYLE must be true or false',
    );
  });
});
