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

/** The sessions a handshake or a refresh carries: the job's own account's and those of the other accounts of its group. */
export type AgentAwsSessions = Pick<workerV1.HandshakeResponse, 'agentAwsCredentials' | 'otherAccountAwsCredentials'>;

/** A profile of the agent's AWS files: `default` is the job's own account, `account-<id>` each other account. */
interface Profile {
  name: string;
  session: workerV1.AgentAwsCredentials;
}

const DEFAULT_PROFILE = 'default';
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z0-9-]{1,32}$/;

/**
 * The profiles a message carries: its own session as `default`, each other account's as `account-<id>`. An empty
 * session is none; an account or region that cannot go into an AWS config file as is, or an account already given,
 * is dropped rather than written.
 */
export function profilesOf(sessions: AgentAwsSessions): Profile[] {
  const profiles: Profile[] = [];
  const accounts = new Set<string>();
  const add = (name: string, session: workerV1.AgentAwsCredentials | undefined): void => {
    if (!session || session.accessKeyId === '' || !ACCOUNT_ID.test(session.account) || !REGION.test(session.region) || accounts.has(session.account)) return;
    accounts.add(session.account);
    profiles.push({ name, session });
  };
  add(DEFAULT_PROFILE, sessions.agentAwsCredentials);
  for (const session of sessions.otherAccountAwsCredentials) add(`account-${session.account}`, session);
  return profiles;
}

/**
 * A read-only incident agent's AWS sessions (docs/incident-access.md), as an AWS shared credentials and config file in
 * a directory of the agent's HOME: outside the work dir, so never uploaded, and named by path in the agent's
 * environment (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), never by value, so a refresh rewrites the file and every
 * AWS CLI or SDK the agent starts next reads the new sessions. The job's own account is the default profile; each
 * other account of a grouped job is the profile `account-<id>` with its own region. Refreshed through the conductor a
 * few minutes before expiry while the job runs; deleted when the agent is done.
 */
@Injectable()
export class AgentAwsCredentials implements OnModuleDestroy {
  private readonly logger = new Logger(AgentAwsCredentials.name);
  private dir: string | undefined;
  /** By profile name, in the order the agent was told about them; a refresh renews these and adds none. */
  private readonly profiles = new Map<string, workerV1.AgentAwsCredentials>();
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

  /** Writes the handshake's sessions for the agent and tells it in TASK.md; does nothing when the job got none. */
  async install(workDir: string, sessions: AgentAwsSessions): Promise<void> {
    // Learned before anything is checked: a session the worker drops must still never leave it.
    for (const session of [sessions.agentAwsCredentials, ...sessions.otherAccountAwsCredentials]) if (session) learnSecrets(awsSessionSecrets(session));
    const profiles = profilesOf(sessions);
    if (profiles.length === 0) return;
    const dir = await this.sandbox.agentOwnedDir('aws-');
    this.dir = dir;
    for (const profile of profiles) this.profiles.set(profile.name, profile.session);
    await this.replace('config', configFile(profiles));
    await this.writeCredentials();
    const regions = new Set(profiles.map((profile) => profile.session.region));
    const [region] = regions;
    this.sandbox.setJobEnv({
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_CONFIG_FILE: join(dir, 'config'),
      // AWS_REGION overrides every profile's own region, so it is set only when all profiles share one.
      ...(regions.size === 1 && region !== undefined ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
    });
    const taskPath = join(workDir, 'TASK.md');
    const task = (await this.fs.readTextIfExists(taskPath)) ?? '';
    await this.fs.writeText(taskPath, `${task.trimEnd()}\n\n${accessSection(profiles)}`);
    for (const { name, session } of profiles) {
      this.logger.log(`AWS read-only session for the agent (profile ${name}) in account ${session.account} (${session.region}) until ${new Date(session.expiresAtUnixMs).toISOString()}`);
    }
    this.schedule(Math.min(...profiles.map((profile) => profile.session.expiresAtUnixMs)) - AGENT_AWS_REFRESH_MARGIN_MS - Date.now());
  }

  /** Stops refreshing and deletes the files: the agent is done, nothing it starts later may use the sessions. */
  async remove(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const dir = this.dir;
    this.dir = undefined;
    await this.refreshing;
    this.profiles.clear();
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
      const response = await this.conductor.refreshAgentCredentials();
      for (const session of [response.agentAwsCredentials, ...response.otherAccountAwsCredentials]) if (session) learnSecrets(awsSessionSecrets(session));
      // Only the profiles the agent was told about: an account that failed at handshake stays without one.
      const fresh = profilesOf(response).filter((profile) => this.profiles.has(profile.name));
      if (fresh.length === 0) throw new Error('the conductor sent no credentials');
      if (!this.dir) return;
      for (const profile of fresh) this.profiles.set(profile.name, profile.session);
      await this.writeCredentials();
      const until = Math.min(...fresh.map((profile) => profile.session.expiresAtUnixMs));
      this.logger.log(`AWS sessions for the agent refreshed (${fresh.map((profile) => profile.name).join(', ')}), until ${new Date(until).toISOString()}`);
      // A profile the conductor could not renew this time keeps its session until it expires; until then, try again.
      const now = Date.now();
      const stale = [...this.profiles].filter(([name, session]) => !fresh.some((profile) => profile.name === name) && session.expiresAtUnixMs > now);
      if (stale.length > 0) {
        this.logger.warn(`AWS session refresh renewed no session for profile(s) ${stale.map(([name]) => name).join(', ')}; retrying in ${RETRY_MS / 1000}s`);
        this.schedule(RETRY_MS);
        return;
      }
      this.schedule(until - AGENT_AWS_REFRESH_MARGIN_MS - now);
    } catch (error) {
      // The logger redacts the learned secrets; a refusal is final, anything else is tried again.
      const message = error instanceof Error ? error.message : String(error);
      if ((error as Partial<ServiceError>).code === status.PERMISSION_DENIED) {
        this.logger.warn(`AWS session refresh refused; the agent's sessions run out: ${message}`);
        return;
      }
      this.logger.warn(`AWS session refresh failed, retrying in ${RETRY_MS / 1000}s: ${message}`);
      this.schedule(RETRY_MS);
    }
  }

  /** Every profile in one file, replaced in one rename: the agent never reads one account's new session beside another's half-written one. */
  private writeCredentials(): Promise<void> {
    const sections = [...this.profiles].map(
      ([name, session]) =>
        `[${name}]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\n`,
    );
    return this.replace('credentials', sections.join('\n'));
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

/** The config file's sections: `[default]`, but `[profile account-<id>]` for a named profile, as the AWS CLI reads them. */
function configFile(profiles: readonly Profile[]): string {
  return profiles.map(({ name, session }) => `[${name === DEFAULT_PROFILE ? name : `profile ${name}`}]\nregion = ${session.region}\n`).join('\n');
}

function accessSection(profiles: readonly Profile[]): string {
  const own = profiles.find((profile) => profile.name === DEFAULT_PROFILE);
  const others = profiles.filter((profile) => profile.name !== DEFAULT_PROFILE);
  const lines = ['## AWS access (read-only)', ''];
  if (own) {
    lines.push(
      `You have a read-only AWS session in the incident's account ${own.session.account}, region ${own.session.region}: the AWS CLI and SDKs`,
      'find it through AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE (the default profile).',
    );
  } else {
    lines.push("You have no AWS session in the job's own account; the AWS CLI and SDKs find the profiles below through", 'AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE. There is no default profile.');
  }
  if (others.length > 0) {
    lines.push('', 'The incident spans other accounts too. Each has its own profile (use `--profile <name>` or `AWS_PROFILE=<name>`):', '');
    for (const { name, session } of others) lines.push(`- \`${name}\`: account ${session.account}, region ${session.region}`);
    lines.push('');
  }
  lines.push(
    'Each session allows CloudWatch, Logs (including Insights), X-Ray and Describe calls in its own account, and nothing',
    'that writes. They are refreshed for you while you work. Never copy the credentials into the repository, your report',
    'or any file you leave behind.',
    '',
  );
  return lines.join('\n');
}
