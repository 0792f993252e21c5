import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { localEmulatorCredentials } from '../local-emulator-credentials';

export interface CloudWatchClientOptions {
  region: string;
  /** For LocalStack, the dev stack's telemetry fixture or a test server; without credentials in the environment it signs with dummies. */
  endpoint?: string;
  maxAttempts?: number;
  /** Per request: a launch waits on these calls, so a stalled endpoint must not hold it for long. */
  requestTimeoutMs?: number;
  /** Explicit credentials or a provider (an assumed role's session); otherwise the SDK's default provider chain. */
  credentials?: CloudWatchClientConfig['credentials'];
}

export function createCloudWatchClient(options: CloudWatchClientOptions, env: NodeJS.ProcessEnv = process.env): CloudWatchClient {
  const config: CloudWatchClientConfig = { region: options.region, retryMode: 'standard' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.requestTimeoutMs !== undefined) config.requestHandler = { connectionTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true };
  const credentials = options.credentials ?? localEmulatorCredentials(options.endpoint, env);
  if (credentials) config.credentials = credentials;
  return new CloudWatchClient(config);
}
