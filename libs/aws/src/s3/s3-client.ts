import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  region: string;
  /** For MinIO, LocalStack or a test server (e.g. http://127.0.0.1:9000). */
  endpoint?: string;
  /** Most S3 emulators serve buckets only at http://host/<bucket>/<key>, not as virtual hosts. */
  forcePathStyle?: boolean;
  maxAttempts?: number;
  /** Explicit credentials; otherwise the SDK's default provider chain (env, profile, task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function createS3Client(options: S3ClientOptions): S3Client {
  const config: S3ClientConfig = { region: options.region, retryMode: 'standard' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}
