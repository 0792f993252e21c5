import { awsSessionSecrets, workerV1 } from '@agent-conductor/contracts';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConductorClient } from '../conductor/conductor-client';
import { learnSecrets } from '../config/learned-secrets';
import { FileSystem } from '../fs/file-system';
import { AgentSandbox } from '../process/agent-sandbox';

/** The worker asks for a fresh session this long before the current one expires, as the conductor's own provider does. */
export const AGENT_AWS_REFRESH_MARGIN_MS = 5 * 60_000;
/** After a failed refresh: soon enough to get a session before expiry, rarely enough not to hammer STS. */
const RETRY_MS = 30_000;

/**
 * A read-only incident agent's AWS session (docs/incident-access.md), as an AWS shared credentials and config file in
 * a directory of the agent's HOME: outside the work dir, so never uploaded, and named by path in the agent's
 * environment (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_REGION), never by value, so a refresh rewrites the
 * file and every AWS CLI or SDK the agent starts next reads the new session. Refreshed through the conductor a few
 * minutes before expiry while the job runs; deleted when the agent is done.
 */
@Injectable()
export class AgentAwsCredentials implements OnModuleDestroy {
  private readonly logger = new Logger(AgentAwsCredentials.name);
  private dir: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly conductor: ConductorClient,
    private readonly sandbox: AgentSandbox,
    private readonly fs: FileSystem,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.remove();
  }

  /** Writes the handshake's session for the agent and tells it in TASK.md; does nothing when the job got none. */
  async install(workDir: string, credentials: workerV1.AgentAwsCredentials | null | undefined): Promise<void> {
    if (!credentials || credentials.accessKeyId === '') return;
    learnSecrets(awsSessionSecrets(credentials));
    const dir = await this.sandbox.agentOwnedDir('aws-');
    this.dir = dir;
    await this.replace('config', `[default]\nregion = ${credentials.region}\n`);
    await this.writeCredentials(credentials);
    this.sandbox.setJobEnv({
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_REGION: credentials.region,
      AWS_DEFAULT_REGION: credentials.region,
    });
    const taskPath = join(workDir, 'TASK.md');
    const task = (await this.fs.readTextIfExists(taskPath)) ?? '';
    await this.fs.writeText(taskPath, `${task.trimEnd()}\n\n${accessSection(credentials)}`);
    this.logger.log(`AWS read-only session for the agent in account ${credentials.account} (${credentials.region}) until ${new Date(credentials.expiresAtUnixMs).toISOString()}`);
    this.schedule(credentials.expiresAtUnixMs - AGENT_AWS_REFRESH_MARGIN_MS - Date.now());
  }

  /** Stops refreshing and deletes the files: the agent is done, nothing it starts later may use the session. */
  async remove(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const dir = this.dir;
    this.dir = undefined;
    await this.refreshing;
    this.sandbox.setJobEnv({});
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  private schedule(delayMs: number): void {
    if (!this.dir) return;
    this.timer = setTimeout(() => {
      this.refreshing = this.refresh().finally(() => {
        this.refreshing = undefined;
      });
    }, Math.max(0, delayMs));
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    try {
      const fresh = (await this.conductor.refreshAgentCredentials()).agentAwsCredentials;
      if (!fresh || fresh.accessKeyId === '') throw new Error('the conductor sent no credentials');
      learnSecrets(awsSessionSecrets(fresh));
      if (!this.dir) return;
      await this.writeCredentials(fresh);
      this.logger.log(`AWS session for the agent refreshed, until ${new Date(fresh.expiresAtUnixMs).toISOString()}`);
      this.schedule(fresh.expiresAtUnixMs - AGENT_AWS_REFRESH_MARGIN_MS - Date.now());
    } catch (error) {
      // The logger redacts the learned secrets; a refusal is final, anything else is tried again.
      const message = error instanceof Error ? error.message : String(error);
      if ((error as Partial<ServiceError>).code === status.PERMISSION_DENIED) {
        this.logger.warn(`AWS session refresh refused; the agent's session runs out: ${message}`);
        return;
      }
      this.logger.warn(`AWS session refresh failed, retrying in ${RETRY_MS / 1000}s: ${message}`);
      this.schedule(RETRY_MS);
    }
  }

  private writeCredentials(credentials: workerV1.AgentAwsCredentials): Promise<void> {
    return this.replace(
      'credentials',
      `[default]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\naws_session_token = ${credentials.sessionToken}\n`,
    );
  }

  /**
   * Atomic for readers (a new file renamed over the old), and safe in a directory the agent owns: the temporary name
   * is random and opened exclusively, so a link the agent planted there is never followed, and rename replaces a
   * link rather than writing through it.
   */
  private async replace(name: string, content: string): Promise<void> {
    const dir = this.dir;
    if (!dir) return;
    const temporary = join(dir, `.${name}.${randomBytes(8).toString('hex')}`);
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      const identity = this.sandbox.identity;
      if (identity) await handle.chown(identity.uid, identity.gid);
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
    await rename(temporary, join(dir, name));
  }
}

function accessSection(credentials: workerV1.AgentAwsCredentials): string {
  return [
    '## AWS access (read-only)',
    '',
    `You have a read-only AWS session in the incident's account ${credentials.account}, region ${credentials.region}: the AWS CLI and SDKs`,
    'find it through AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE. It allows CloudWatch, Logs (including Insights),',
    'X-Ray and Describe calls, and nothing that writes. It is refreshed for you while you work. Never copy the',
    'credentials into the repository, your report or any file you leave behind.',
    '',
  ].join('\n');
}
