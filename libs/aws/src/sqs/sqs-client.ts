import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

export interface SqsClientOptions {
  region: string;
  /** Override for local-sqs, ElasticMQ or LocalStack (e.g. http://127.0.0.1:9324). */
  endpoint?: string;
  /** Explicit credentials; otherwise the SDK's default provider chain (env, profile, container/instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Variables that mean "the default provider chain has something to find"; then we never substitute dummies. */
const CREDENTIAL_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/** Local emulators accept any signature, but the SDK refuses to send a request it cannot sign. */
const LOCAL_EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * An SQSClient for `region`, optionally pointed at `endpoint`. With an endpoint, no explicit credentials and no
 * credential source in the environment, it signs with dummy credentials so the local stack works out of the box.
 */
export function createSqsClient(options: SqsClientOptions, env: NodeJS.ProcessEnv = process.env): SQSClient {
  const config: SQSClientConfig = { region: options.region };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) {
    config.credentials = options.credentials;
  } else if (options.endpoint && !CREDENTIAL_ENV.some((name) => env[name])) {
    config.credentials = LOCAL_EMULATOR_CREDENTIALS;
  }
  return new SQSClient(config);
}
