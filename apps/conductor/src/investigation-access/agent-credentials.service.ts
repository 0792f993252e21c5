import { assumeRole, readOnlySessionPolicy } from '@agent-conductor/aws';
import type { workerV1 } from '@agent-conductor/contracts';
import { IncidentEvidenceRepository, WorkerRepository, type IncidentEvidenceTarget, type Job } from '@agent-conductor/db';
import { errorMessage, investigationAccessOf, investigationRoleArnProblem, type InvestigationAccess } from '@agent-conductor/scheduling-domain';
import type { STSClient } from '@aws-sdk/client-sts';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { STS_CLIENT } from './sts-client';

/** `refused`: the job's agent gets no AWS access at all; `unavailable`: it does, but every AssumeRole failed this time. */
export class AgentCredentialsError extends Error {
  override readonly name = 'AgentCredentialsError';
  constructor(
    readonly code: 'refused' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

type GrantedJob = Pick<Job, 'id' | 'kind' | 'key' | 'investigation'>;

/** An account whose role the agent gets a session of, and the region its CLI defaults to there (null: the conductor's). */
export interface AccountGrant {
  account: string;
  access: InvestigationAccess;
  region: string | null;
}

/**
 * The sessions of one handshake or refresh. `own` is the job's own account's (HandshakeResponse.agent_aws_credentials);
 * `others` holds one per other account that granted read-only and whose AssumeRole succeeded.
 */
export interface AgentSessions {
  own: workerV1.AgentAwsCredentials | undefined;
  others: workerV1.AgentAwsCredentials[];
}

/**
 * The investigation access of a job whose agent may hold AWS credentials, or null: only an incident job whose route
 * said "read-only", and only for a role in the incident's own account (checked again here, so a hand-edited row can
 * never hand an agent another account).
 */
export function agentGrantOf(job: Pick<Job, 'kind' | 'key' | 'investigation'>): InvestigationAccess | null {
  if (job.kind !== 'incident') return null;
  const access = investigationAccessOf(job.investigation);
  if (access?.agentAccess !== 'read-only') return null;
  return investigationRoleArnProblem(access.roleArn, job.key) === null ? access : null;
}

/**
 * The other accounts of a grouped incident job (docs/scheduling.md, "Several accounts, one job") whose agent gets a
 * session: each account once (its first incident), the job's own account excluded, and only where that incident's
 * own rule said "read-only" with a role in that incident's own account. Another account's rule can never reach
 * further than its account, and one account's rule never grants another.
 */
export function otherAccountGrantsOf(job: Pick<Job, 'kind' | 'key'>, targets: readonly IncidentEvidenceTarget[]): AccountGrant[] {
  if (job.kind !== 'incident') return [];
  const grants = new Map<string, AccountGrant | null>();
  for (const target of targets) {
    if (target.account === job.key || grants.has(target.account)) continue;
    const access = target.investigation;
    const granted = access?.agentAccess === 'read-only' && investigationRoleArnProblem(access.roleArn, target.account) === null;
    grants.set(target.account, granted ? { account: target.account, access, region: target.alarms[0]?.region ?? null } : null);
  }
  return [...grants.values()].filter((grant): grant is AccountGrant => grant !== null);
}

interface Issued {
  sessions: AgentSessions;
  failures: Array<{ account: string; reason: string }>;
}

/**
 * Read-only AWS sessions for incident agents: for the job's own account and for every other account of a grouped job
 * that grants it, that account's investigation role, assumed with its external id, narrowed by the read-only session
 * policy (its rule's actions, else the default list), for AGENT_AWS_SESSION_SECONDS. The credentials go to the worker
 * and nowhere else: events and log lines name the job, the account and the expiry, never a key.
 */
@Injectable()
export class AgentCredentialsService {
  private readonly logger = new Logger(AgentCredentialsService.name);

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'agentAwsSessionSeconds' | 'awsRegion'>,
    @Inject(STS_CLIENT) private readonly sts: STSClient,
    private readonly incidents: IncidentEvidenceRepository,
    private readonly workers: WorkerRepository,
  ) {}

  /**
   * At handshake: every session the job's agent gets. An account whose AssumeRole failed is recorded on the worker and
   * left out; the agent starts with the others, or without any, as it does without an evidence pack.
   */
  async atHandshake(workerId: string, job: GrantedJob): Promise<AgentSessions> {
    const { own, others } = await this.grantsOf(job);
    const { sessions, failures } = await this.issueAll(workerId, job, own, others);
    for (const failure of failures) {
      this.logger.warn(`job ${job.id}: no AWS credentials for the agent in account ${failure.account}, it starts without them: ${failure.reason}`);
    }
    return sessions;
  }

  /**
   * Fresh sessions of every granted account before the current ones expire. A job whose own account grants nothing but
   * another account does gets the others (and no own session); only a job that no account grants is refused. Accounts
   * whose AssumeRole failed are recorded and left out; `unavailable` only when all of them failed.
   */
  async refresh(workerId: string, job: GrantedJob): Promise<AgentSessions> {
    const { own, others } = await this.grantsOf(job);
    if (own === null && others.length === 0) {
      await this.workers.appendEvent(workerId, 'agent-credentials-refused', { kind: job.kind });
      throw new AgentCredentialsError('refused', `job ${job.id} grants its agent no AWS access`);
    }
    const { sessions, failures } = await this.issueAll(workerId, job, own, others);
    if (sessions.own === undefined && sessions.others.length === 0) {
      const reasons = failures.map((failure) => `account ${failure.account}: ${failure.reason}`).join('; ');
      throw new AgentCredentialsError('unavailable', `AssumeRole for job ${job.id} failed: ${reasons}`);
    }
    return sessions;
  }

  private async grantsOf(job: GrantedJob): Promise<{ own: AccountGrant | null; others: AccountGrant[] }> {
    if (job.kind !== 'incident') return { own: null, others: [] };
    const targets = await this.incidents.targetsOfJob(job.id);
    const access = agentGrantOf(job);
    const ownTarget = targets.find((target) => target.account === job.key);
    return {
      own: access ? { account: job.key, access, region: ownTarget?.alarms[0]?.region ?? null } : null,
      others: otherAccountGrantsOf(job, targets),
    };
  }

  private async issueAll(workerId: string, job: GrantedJob, own: AccountGrant | null, others: AccountGrant[]): Promise<Issued> {
    const failures: Issued['failures'] = [];
    const attempt = async (grant: AccountGrant): Promise<workerV1.AgentAwsCredentials | undefined> => {
      try {
        return await this.issue(workerId, job, grant);
      } catch (error) {
        const reason = errorMessage(error);
        failures.push({ account: grant.account, reason });
        await this.workers.appendEvent(workerId, 'agent-credentials-failed', { account: grant.account, reason });
        return undefined;
      }
    };
    // Each account's STS call is independent: one slow or failing role does not hold up the others.
    const [ownSession, ...otherSessions] = await Promise.all([own ? attempt(own) : Promise.resolve(undefined), ...others.map(attempt)]);
    return {
      sessions: { own: ownSession, others: otherSessions.filter((session): session is workerV1.AgentAwsCredentials => session !== undefined) },
      failures,
    };
  }

  private async issue(workerId: string, job: GrantedJob, grant: AccountGrant): Promise<workerV1.AgentAwsCredentials> {
    const session = await assumeRole(this.sts, {
      roleArn: grant.access.roleArn,
      externalId: grant.access.externalId,
      // CloudTrail in the monitored account shows which job's agent made each call.
      sessionName: `agent-${job.id}`,
      durationSeconds: this.config.agentAwsSessionSeconds,
      policy: readOnlySessionPolicy(grant.access.actions),
    });
    await this.workers.appendEvent(workerId, 'agent-credentials-issued', { account: grant.account, expiresAt: session.expiration.toISOString() });
    return {
      accessKeyId: session.accessKeyId,
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
      expiresAtUnixMs: session.expiration.getTime(),
      region: grant.region ?? this.config.awsRegion,
      account: grant.account,
    };
  }
}
