import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { localEmulatorCredentials } from '../local-emulator-credentials';
import type { CloudWatchClientOptions } from './cloudwatch-client';

/** The same options as the CloudWatch client: the evidence pack sends both to one endpoint and one set of credentials. */
export type CloudWatchLogsClientOptions = CloudWatchClientOptions;

export function createCloudWatchLogsClient(options: CloudWatchLogsClientOptions, env: NodeJS.ProcessEnv = process.env): CloudWatchLogsClient {
  const config: CloudWatchLogsClientConfig = { region: options.region, retryMode: 'standard' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (options.requestTimeoutMs !== undefined) config.requestHandler = { connectionTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true };
  const credentials = options.credentials ?? localEmulatorCredentials(options.endpoint, env);
  if (credentials) config.credentials = credentials;
  return new CloudWatchLogsClient(config);
}
