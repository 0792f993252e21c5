import type { Worker } from '@agent-conductor/db';
import { WorkerRepository } from '@agent-conductor/db';
import type { workerV1 } from '@agent-conductor/contracts';
import { addLogContext } from '@agent-conductor/observability';
import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { hashWorkerToken, workerTokenMatches } from '../common/worker-token';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function rpcError(code: status, message: string): RpcException {
  return new RpcException({ code, message });
}

/** Proves on every call that the caller is the worker it claims to be. */
@Injectable()
export class WorkerAuthService {
  constructor(private readonly workers: WorkerRepository) {}

  /**
   * The token is checked before anything about the worker's state is
   * revealed, and every kind of bad credential gets the same answer.
   *
   * `handshake` expects the launch token of a worker that has not handshaken;
   * `session` (every other call) the session token the handshake issued. The
   * stored hash is the launch token's until the handshake and the session
   * token's after it, so each token only ever works for its own side.
   */
  async authenticate(credentials: workerV1.WorkerCredentials | undefined, stage: 'handshake' | 'session'): Promise<Worker> {
    const workerId = credentials?.workerId ?? '';
    const token = credentials?.token ?? '';
    const worker = UUID.test(workerId) && token.length > 0 ? await this.workers.findById(workerId) : null;
    if (!worker || !workerTokenMatches(token, worker.tokenHash)) {
      throw rpcError(status.UNAUTHENTICATED, 'unknown worker or wrong token');
    }
    if (worker.state === 'ended') {
      throw rpcError(status.FAILED_PRECONDITION, `worker ${worker.id} has ended`);
    }
    if (stage === 'session' && worker.handshakeAt === null) {
      throw rpcError(status.FAILED_PRECONDITION, `worker ${worker.id} must call Handshake first`);
    }
    if (stage === 'handshake' && worker.handshakeAt !== null) {
      throw rpcError(status.FAILED_PRECONDITION, `worker ${worker.id} has already handshaken`);
    }
    // Lines the rest of this RPC writes carry the job too (the interceptor already set the worker).
    addLogContext({ jobId: worker.jobId });
    return worker;
  }

  /**
   * `authenticate(credentials, 'session')` plus marking the worker alive, in one round trip when all is well
   * (heartbeats are most of the conductor's traffic). Anything else takes the full check, which gives the
   * same refusal as every other call.
   */
  async authenticateAndTouch(credentials: workerV1.WorkerCredentials | undefined): Promise<Worker> {
    const workerId = credentials?.workerId ?? '';
    const token = credentials?.token ?? '';
    const touched = UUID.test(workerId) && token.length > 0 ? await this.workers.touchSession(workerId, hashWorkerToken(token)) : null;
    if (touched) {
      addLogContext({ jobId: touched.jobId });
      return touched;
    }
    const worker = await this.authenticate(credentials, 'session');
    await this.workers.touch(worker.id);
    return worker;
  }
}
