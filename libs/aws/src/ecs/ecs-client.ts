import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';

export interface EcsClientOptions {
  region: string;
  /**
   * Total tries per call, first included. RunTask carries a stable clientToken, so a retry after a lost response
   * returns the original task instead of starting a second one.
   */
  maxAttempts?: number;
  /** `adaptive` (default) also slows the client down after throttling, which suits a conductor launching in bursts. */
  retryMode?: 'standard' | 'adaptive';
  /** Only for tests and emulators; real deployments use the regional endpoint. */
  endpoint?: string;
  /** Explicit credentials; otherwise the SDK's default provider chain (env, profile, task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export const DEFAULT_ECS_MAX_ATTEMPTS = 5;

/** An ECSClient whose retry strategy absorbs `ThrottlingException` and 5xx before the launcher sees them. */
export function createEcsClient(options: EcsClientOptions): ECSClient {
  const maxAttempts = options.maxAttempts ?? DEFAULT_ECS_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  const config: ECSClientConfig = { region: options.region, maxAttempts, retryMode: options.retryMode ?? 'adaptive' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  return new ECSClient(config);
}
