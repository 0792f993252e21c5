import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** SigV4 presigned URLs cannot outlive seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/**
 * A GET URL for a task archive, so a worker can fetch a large archive straight from S3 instead of through gRPC
 * chunks. The URL is a bearer credential until it expires: hand it only to the worker it is for.
 */
export async function presignTaskArchive(s3: S3Client, bucket: string, key: string, expiresSeconds: number): Promise<string> {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
    throw new Error(`expiresSeconds must be an integer between 1 and ${MAX_PRESIGN_SECONDS}, got ${expiresSeconds}`);
  }
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds });
}
