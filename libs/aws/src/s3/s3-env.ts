import type { S3ClientOptions } from './s3-client';
import type { S3ResultStoreConfig } from './s3-result-store';

/** The variable names the conductor reads for RESULT_STORE=s3. */
export const S3_ENV = {
  bucket: 'RESULTS_BUCKET',
  prefix: 'RESULTS_PREFIX',
  kmsKeyId: 'RESULTS_KMS_KEY_ID',
  region: 'AWS_REGION',
  endpoint: 'S3_ENDPOINT',
  forcePathStyle: 'S3_FORCE_PATH_STYLE',
} as const;

/** Builds the S3 client options and store config, reporting every missing or malformed variable at once. */
export function s3ResultStoreFromEnv(env: NodeJS.ProcessEnv = process.env): { client: S3ClientOptions; store: S3ResultStoreConfig } {
  const problems: string[] = [];
  const bucket = env[S3_ENV.bucket]?.trim() ?? '';
  if (!bucket) problems.push(`${S3_ENV.bucket} is required`);
  const region = env[S3_ENV.region]?.trim() ?? '';
  if (!region) problems.push(`${S3_ENV.region} is required`);
  const forcePathStyle = env[S3_ENV.forcePathStyle]?.trim();
  if (forcePathStyle && forcePathStyle !== 'true' && forcePathStyle !== 'false') problems.push(`${S3_ENV.forcePathStyle} must be true or false`);
  if (problems.length > 0) throw new Error(`invalid S3 result store environment: ${problems.join('; ')}`);

  const client: S3ClientOptions = { region };
  const endpoint = env[S3_ENV.endpoint]?.trim();
  if (endpoint) client.endpoint = endpoint;
  if (forcePathStyle) client.forcePathStyle = forcePathStyle === 'true';
  const store: S3ResultStoreConfig = { bucket };
  const prefix = env[S3_ENV.prefix]?.trim();
  if (prefix) store.prefix = prefix;
  const kmsKeyId = env[S3_ENV.kmsKeyId]?.trim();
  if (kmsKeyId) store.kmsKeyId = kmsKeyId;
  return { client, store };
}
