import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { localEmulatorCredentials } from '../local-emulator-credentials';

export interface SqsClientOptions {
  region: string;
  /** Override for local-sqs, ElasticMQ or LocalStack (e.g. http://127.0.0.1:9324). */
  endpoint?: string;
  /** Explicit credentials; otherwise the SDK's default provider chain (env, profile, container/instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * An SQSClient for `region`, optionally pointed at `endpoint`. With an endpoint, no explicit credentials and no
 * credential source in the environment, it signs with dummy credentials so the local stack works out of the box.
 */
export function createSqsClient(options: SqsClientOptions, env: NodeJS.ProcessEnv = process.env): SQSClient {
  const config: SQSClientConfig = { region: options.region };
  if (options.endpoint) config.endpoint = options.endpoint;
  const credentials = options.credentials ?? localEmulatorCredentials(options.endpoint, env);
  if (credentials) config.credentials = credentials;
  return new SQSClient(config);
}
