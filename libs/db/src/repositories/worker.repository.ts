import { Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, Worker, WorkerEvent } from '../generated/prisma/client';

export interface RegisterWorkerInput {
  jobId: string;
  attempt: number;
  launcher: string;
  /** sha256 hex of the worker's launch token; the token itself never reaches the database. */
  tokenHash: string;
}

/** How long a transaction may wait for a pooled connection; the work itself keeps Prisma's 5 s timeout. */
const TRANSACTION_MAX_WAIT_MS = 15_000;

/** `workers` and `worker_events`: one row per launch attempt and its history. */
@Injectable()
export class WorkerRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  async register(input: RegisterWorkerInput): Promise<Worker> {
    const worker = await this.prisma.worker.create({ data: { ...input, state: 'registered' } });
    await this.appendEvent(worker.id, 'registered', { attempt: input.attempt, launcher: input.launcher });
    return worker;
  }

  findById(id: string): Promise<Worker | null> {
    return this.prisma.worker.findUnique({ where: { id } });
  }

  /**
   * Stores the launcher's handle. The worker may already have handshaken
   * (a fast process races the launcher's return), so the state only moves
   * forward: registered → launched, never connected → launched.
   */
  async markLaunched(id: string, handle: string): Promise<void> {
    const now = new Date();
    const { count } = await this.prisma.worker.updateMany({
      where: { id, state: 'registered' },
      data: { state: 'launched', launcherHandle: handle, launchedAt: now, lastEventAt: now },
    });
    if (count === 0) {
      await this.prisma.worker.updateMany({
        where: { id, state: { not: 'ended' } },
        data: { launcherHandle: handle, launchedAt: now },
      });
    }
  }

  /**
   * Handshake: swaps the launch token's hash for the session token's and marks
   * the worker connected, in one UPDATE that matches only while the launch
   * hash is still in place. Of two Handshakes with the launch token exactly
   * one wins; from then on the launch token matches nothing. False when the
   * worker ended or another Handshake got there first.
   */
  async connect(id: string, launchTokenHash: string, sessionTokenHash: string): Promise<boolean> {
    const now = new Date();
    const { count } = await this.prisma.worker.updateMany({
      where: { id, state: { not: 'ended' }, handshakeAt: null, tokenHash: launchTokenHash },
      data: { state: 'connected', handshakeAt: now, lastEventAt: now, tokenHash: sessionTokenHash },
    });
    return count === 1;
  }

  async touch(id: string): Promise<void> {
    await this.prisma.worker.updateMany({ where: { id, state: { not: 'ended' } }, data: { lastEventAt: new Date() } });
  }

  /**
   * A session call's sign of life in one statement: it matches only a connected worker whose stored hash is this
   * session token's, and returns that worker. Null when anything is off (unknown id, wrong token, no handshake yet,
   * ended); the caller then runs the full check for the precise refusal. Comparing hashes in SQL leaks no more
   * than the constant-time check does: the timing could only tell how much of a SHA-256 of a guess matches.
   */
  async touchSession(id: string, sessionTokenHash: string): Promise<Worker | null> {
    const [worker] = await this.prisma.worker.updateManyAndReturn({
      where: { id, tokenHash: sessionTokenHash, state: 'connected', handshakeAt: { not: null } },
      data: { lastEventAt: new Date() },
    });
    return worker ?? null;
  }

  /** Ends the worker unless it already ended; true when this call ended it. */
  async end(id: string, reason: string, tx: Prisma.TransactionClient = this.prisma): Promise<boolean> {
    const now = new Date();
    const { count } = await tx.worker.updateMany({
      where: { id, state: { not: 'ended' } },
      data: { state: 'ended', endReason: reason, endedAt: now, lastEventAt: now },
    });
    return count === 1;
  }

  /** Every worker not ended yet, oldest first: what a (re)started conductor adopts and watches. */
  findLive(launcher?: string): Promise<Worker[]> {
    return this.prisma.worker.findMany({
      where: { state: { not: 'ended' }, ...(launcher ? { launcher } : {}) },
      orderBy: { createdAt: 'asc' },
    });
  }

  /** Live workers that have not handshaken and were registered before `registeredBefore`. */
  findWithoutHandshake(registeredBefore: Date): Promise<Worker[]> {
    return this.prisma.worker.findMany({
      where: { state: { in: ['registered', 'launched'] }, handshakeAt: null, createdAt: { lt: registeredBefore } },
      orderBy: { createdAt: 'asc' },
    });
  }

  /** Connected workers whose last sign of life (handshake, heartbeat, upload, report) is older than `silentSince`. */
  findSilent(silentSince: Date): Promise<Worker[]> {
    return this.prisma.worker.findMany({
      where: { state: 'connected', lastEventAt: { lt: silentSince } },
      orderBy: { lastEventAt: 'asc' },
    });
  }

  /** Workers a conductor still has to wait for before it may exit. */
  countActive(): Promise<number> {
    return this.prisma.worker.count({ where: { state: { not: 'ended' } } });
  }

  async appendEvent(
    workerId: string,
    type: string,
    detail?: Prisma.InputJsonObject,
    tx: Prisma.TransactionClient = this.prisma,
  ): Promise<void> {
    await tx.workerEvent.create({ data: { workerId, type, ...(detail ? { detail } : {}) } });
  }

  async hasEvent(workerId: string, type: string): Promise<boolean> {
    return (await this.prisma.workerEvent.count({ where: { workerId, type } })) > 0;
  }

  /** The job's newest attempt that recorded an event of `type` (e.g. the attempt whose results were uploaded). */
  newestAttemptWithEvent(jobId: string, type: string): Promise<Worker | null> {
    return this.prisma.worker.findFirst({ where: { jobId, events: { some: { type } } }, orderBy: { attempt: 'desc' } });
  }

  /** The detail of the worker's latest event of `type`, when it is a JSON object. */
  async latestEventDetail(workerId: string, type: string): Promise<Prisma.JsonObject | null> {
    const event = await this.prisma.workerEvent.findFirst({ where: { workerId, type }, orderBy: { id: 'desc' } });
    const detail = event?.detail;
    return detail !== null && detail !== undefined && typeof detail === 'object' && !Array.isArray(detail) ? (detail as Prisma.JsonObject) : null;
  }

  listEvents(workerId: string): Promise<WorkerEvent[]> {
    return this.prisma.workerEvent.findMany({ where: { workerId }, orderBy: { id: 'asc' } });
  }

  /** Runs `work` in one transaction, for state changes that span workers and jobs. */
  transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    // Prisma's default 2 s wait for a connection fails a Shutdown outright when hundreds of workers share the pool.
    return this.prisma.$transaction(work, { maxWait: TRANSACTION_MAX_WAIT_MS });
  }
}
