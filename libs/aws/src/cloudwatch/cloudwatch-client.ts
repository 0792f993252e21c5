import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';

export interface CloudWatchClientOptions {
  region: string;
  /** For LocalStack or a test server. */
  endpoint?: string;
  maxAttempts?: number;
  /** Per request: a launch waits on these calls, so a stalled endpoint must not hold it for long. */
  requestTimeoutMs?: number;
  /** Explicit credentials or a provider (an assumed role's session); otherwise the SDK's default provider chain. */
  credentials?: CloudWatchClientConfig['credentials'];
}

export function createCloudWatchClient(options: CloudWatchClientOptions): CloudWatchClient {
  const config: CloudWatchClientConfig = { region: options.region, retryMode: 'standard' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.requestTimeoutMs !== undefined) config.requestHandler = { connectionTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true };
  if (options.credentials) config.credentials = options.credentials;
  return new CloudWatchClient(config);
}
