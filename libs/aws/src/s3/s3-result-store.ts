import { GetObjectCommand, NoSuchKey, type S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { resultArchiveName, resultSessionName, type ResultKey, type ResultStore } from './result-store';

export interface S3ResultStoreConfig {
  bucket: string;
  /** Key prefix, e.g. `prod/`; a missing trailing slash is added. */
  prefix?: string;
  /** With a key id objects are encrypted with aws:kms under that key; without one, with S3-managed AES256. */
  kmsKeyId?: string;
  /** Parts uploaded in parallel; each holds one part (5 MiB by default) in memory. */
  queueSize?: number;
}

export const RESULT_CONTENT_TYPE = 'application/gzip';

/**
 * Result archives in S3 (RESULT_STORE=s3): `<prefix>results/<jobId>/attempt-<n>-<workerId>.tar.gz`, the agent session
 * beside it (`….agent-session.tar.gz`), both under the `<prefix>results/` the bucket's expiry rule covers.
 */
export class S3ResultStore implements ResultStore {
  private readonly prefix: string;

  constructor(
    private readonly s3: S3Client,
    private readonly config: S3ResultStoreConfig,
  ) {
    if (!config.bucket) throw new Error('S3ResultStore needs a bucket');
    const prefix = config.prefix ?? '';
    if (prefix.startsWith('/') || prefix.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new Error(`invalid S3 result prefix: ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  objectKey(key: ResultKey): string {
    return `${this.prefix}results/${resultArchiveName(key)}`;
  }

  sessionObjectKey(key: ResultKey): string {
    return `${this.prefix}results/${resultSessionName(key)}`;
  }

  async store(key: ResultKey, archivePath: string): Promise<{ location: string }> {
    return this.upload(key, this.objectKey(key), archivePath);
  }

  async open(key: ResultKey): Promise<Readable | undefined> {
    return this.download(this.objectKey(key));
  }

  async storeSession(key: ResultKey, sessionPath: string): Promise<{ location: string }> {
    return this.upload(key, this.sessionObjectKey(key), sessionPath);
  }

  async openSession(key: ResultKey): Promise<Readable | undefined> {
    return this.download(this.sessionObjectKey(key));
  }

  private async upload(key: ResultKey, objectKey: string, archivePath: string): Promise<{ location: string }> {
    // Fail with the file's own error before S3 sees a half-created upload.
    const info = await stat(archivePath);
    if (!info.isFile()) throw new Error(`result archive is not a file: ${archivePath}`);

    // A stream, not a buffer: Upload reads one part at a time and switches to multipart above 5 MiB.
    const body = createReadStream(archivePath);
    const encryption: { ServerSideEncryption: ServerSideEncryption; SSEKMSKeyId?: string } = this.config.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.config.kmsKeyId }
      : { ServerSideEncryption: 'AES256' };
    const upload = new Upload({
      client: this.s3,
      queueSize: this.config.queueSize ?? 2,
      params: {
        Bucket: this.config.bucket,
        Key: objectKey,
        Body: body,
        ContentType: RESULT_CONTENT_TYPE,
        ...encryption,
        Metadata: { 'job-id': key.jobId, 'worker-id': key.workerId, attempt: String(key.attempt) },
      },
    });
    try {
      // On a failed part, Upload aborts the multipart upload itself (leavePartsOnError is false).
      await upload.done();
    } finally {
      body.destroy();
    }
    return { location: `s3://${this.config.bucket}/${objectKey}` };
  }

  private async download(objectKey: string): Promise<Readable | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: objectKey }));
      if (Body instanceof Readable) return Body;
      if (Body === undefined) return undefined;
      // Outside Node the SDK hands back a web stream; the Node runtime gives a Readable.
      return Readable.from(Buffer.from(await Body.transformToByteArray()));
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}
