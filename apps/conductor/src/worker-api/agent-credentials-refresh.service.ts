import type { workerV1 } from '@agent-conductor/contracts';
import { JobRepository } from '@agent-conductor/db';
import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { AgentCredentialsError, AgentCredentialsService } from '../investigation-access/agent-credentials.service';
import { rpcError, WorkerAuthService } from './worker-auth.service';

const STATUS: Record<AgentCredentialsError['code'], status> = {
  refused: status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
};

/** RefreshAgentCredentials: authenticated like every call, then fresh sessions of every account that grants the job's agent read-only. */
@Injectable()
export class AgentCredentialsRefreshService {
  constructor(
    private readonly auth: WorkerAuthService,
    private readonly jobs: JobRepository,
    private readonly credentials: AgentCredentialsService,
  ) {}

  async refresh(request: workerV1.RefreshAgentCredentialsRequest): Promise<workerV1.RefreshAgentCredentialsResponse> {
    const worker = await this.auth.authenticateAndTouch(request.credentials);
    const job = await this.jobs.findById(worker.jobId);
    if (!job) throw rpcError(status.NOT_FOUND, `job ${worker.jobId} does not exist`);
    try {
      const sessions = await this.credentials.refresh(worker.id, job);
      return { agentAwsCredentials: sessions.own, otherAccountAwsCredentials: sessions.others };
    } catch (error) {
      if (error instanceof AgentCredentialsError) throw rpcError(STATUS[error.code], error.message);
      throw error;
    }
  }
}
