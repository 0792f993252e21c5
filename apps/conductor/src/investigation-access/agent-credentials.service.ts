import { assumeRole, readOnlySessionPolicy } from '@agent-conductor/aws';
import type { workerV1 } from '@agent-conductor/contracts';
import { IncidentEvidenceRepository, WorkerRepository, type Job } from '@agent-conductor/db';
import { errorMessage, investigationAccessOf, investigationRoleArnProblem, type InvestigationAccess } from '@agent-conductor/scheduling-domain';
import type { STSClient } from '@aws-sdk/client-sts';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { STS_CLIENT } from './sts-client';

/** `refused`: the job's agent gets no AWS access at all; `unavailable`: it does, but AssumeRole failed this time. */
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
 * Read-only AWS sessions for incident agents: the job's investigation role, assumed with its external id, narrowed by
 * the read-only session policy (the route's actions, else the default list), for AGENT_AWS_SESSION_SECONDS. The
 * credentials go to the worker and nowhere else: events and log lines name the job and the expiry, never a key.
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
   * At handshake: the session, or undefined when the job's agent gets none. A failed AssumeRole is recorded on the
   * worker and the agent starts without credentials, as it does without an evidence pack.
   */
  async atHandshake(workerId: string, job: GrantedJob): Promise<workerV1.AgentAwsCredentials | undefined> {
    if (agentGrantOf(job) === null) return undefined;
    try {
      return await this.issue(workerId, job);
    } catch (error) {
      const reason = errorMessage(error);
      this.logger.warn(`job ${job.id}: no AWS credentials for the agent, it starts without them: ${reason}`);
      await this.workers.appendEvent(workerId, 'agent-credentials-failed', { reason });
      return undefined;
    }
  }

  /** A fresh session before the current one expires. Throws AgentCredentialsError; both kinds are recorded. */
  async refresh(workerId: string, job: GrantedJob): Promise<workerV1.AgentAwsCredentials> {
    if (agentGrantOf(job) === null) {
      await this.workers.appendEvent(workerId, 'agent-credentials-refused', { kind: job.kind });
      throw new AgentCredentialsError('refused', `job ${job.id} grants its agent no AWS access`);
    }
    try {
      return await this.issue(workerId, job);
    } catch (error) {
      const reason = errorMessage(error);
      await this.workers.appendEvent(workerId, 'agent-credentials-failed', { reason });
      throw new AgentCredentialsError('unavailable', `AssumeRole for job ${job.id} failed: ${reason}`);
    }
  }

  private async issue(workerId: string, job: GrantedJob): Promise<workerV1.AgentAwsCredentials> {
    const access = agentGrantOf(job);
    if (!access) throw new AgentCredentialsError('refused', `job ${job.id} grants its agent no AWS access`);
    const session = await assumeRole(this.sts, {
      roleArn: access.roleArn,
      externalId: access.externalId,
      // CloudTrail in the monitored account shows which job's agent made each call.
      sessionName: `agent-${job.id}`,
      durationSeconds: this.config.agentAwsSessionSeconds,
      policy: readOnlySessionPolicy(access.actions),
    });
    const target = await this.incidents.targetOfJob(job.id);
    await this.workers.appendEvent(workerId, 'agent-credentials-issued', { expiresAt: session.expiration.toISOString() });
    return {
      accessKeyId: session.accessKeyId,
      secretAccessKey: session.secretAccessKey,
      sessionToken: session.sessionToken,
      expiresAtUnixMs: session.expiration.getTime(),
      region: target?.alarms[0]?.region ?? this.config.awsRegion,
      account: job.key,
    };
  }
}
