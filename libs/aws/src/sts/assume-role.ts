import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';

export interface StsClientOptions {
  region: string;
  /** For LocalStack or a test server. */
  endpoint?: string;
  maxAttempts?: number;
}

export function createStsClient(options: StsClientOptions): STSClient {
  const config: STSClientConfig = { region: options.region, retryMode: 'standard' };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  return new STSClient(config);
}

/** One account's investigation role, as a route names it. */
export interface InvestigationRole {
  roleArn: string;
  externalId: string;
}

/** Temporary credentials of an assumed role. Every field but `expiration` is a secret. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumeRoleRequest extends InvestigationRole {
  /** Shows in the account's CloudTrail, so it names the job: `conductor-<jobId>`. */
  sessionName: string;
  /** STS accepts 900 to 43200; agents get at most an hour. */
  durationSeconds: number;
  /** A session policy (JSON) that narrows the role; none for the conductor's own evidence gathering. */
  policy?: string;
}

export const MIN_SESSION_SECONDS = 900;
export const MAX_SESSION_SECONDS = 3600;

/** STS refuses session names outside this alphabet and length. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export async function assumeRole(sts: STSClient, request: AssumeRoleRequest): Promise<SessionCredentials> {
  if (!Number.isInteger(request.durationSeconds) || request.durationSeconds < MIN_SESSION_SECONDS || request.durationSeconds > MAX_SESSION_SECONDS) {
    throw new Error(`session duration must be a whole number of seconds from ${MIN_SESSION_SECONDS} to ${MAX_SESSION_SECONDS}, got ${request.durationSeconds}`);
  }
  if (!SESSION_NAME.test(request.sessionName)) throw new Error(`session name "${request.sessionName}" must be 2-64 characters of letters, digits and +=,.@_-`);
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: request.roleArn,
      ExternalId: request.externalId,
      RoleSessionName: request.sessionName,
      DurationSeconds: request.durationSeconds,
      ...(request.policy === undefined ? {} : { Policy: request.policy }),
    }),
  );
  const credentials = out.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
    throw new Error(`AssumeRole for ${request.roleArn} returned no complete credentials`);
  }
  return { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken, expiration: credentials.Expiration };
}

/** Credentials are renewed this long before they expire, so a call in flight never carries expired ones. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * An SDK credential provider that assumes the role on first use and again shortly before expiry. Concurrent callers
 * share one AssumeRole call.
 */
export function assumedRoleProvider(sts: STSClient, request: AssumeRoleRequest, now: () => number = Date.now): () => Promise<SessionCredentials> {
  let current: SessionCredentials | null = null;
  let pending: Promise<SessionCredentials> | null = null;
  return async () => {
    if (current && current.expiration.getTime() - REFRESH_MARGIN_MS > now()) return current;
    pending ??= assumeRole(sts, request).then(
      (fresh) => {
        current = fresh;
        pending = null;
        return fresh;
      },
      (error: unknown) => {
        pending = null;
        throw error;
      },
    );
    return pending;
  };
}
