import { errorMessage } from '@agent-conductor/scheduling-domain';
import type { Worker } from '@agent-conductor/db';
import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { AttemptService, type EndAttemptOptions } from '../launch/attempts.service';
import { JobLaunchService } from '../launch/job-launch.service';
import { WORKER_LAUNCHER, type WorkerLauncher } from '../launch/worker-launcher';
import { ConductorMetrics } from '../metrics/conductor-metrics.service';

/**
 * Keeps the worker registry honest with reality:
 * - at boot, adopts the workers a previous conductor left running (Postgres
 *   holds the registry; a local worker is re-attached by pid, an ECS task by
 *   its ARN), so a restart orphans nothing;
 * - a worker that has not handshaken by HANDSHAKE_DEADLINE_MS is stopped and
 *   its attempt failed (and retried);
 * - a connected worker silent for HEARTBEAT_TIMEOUT_MS is checked with the
 *   launcher: gone → its attempt ends and is retried; still there → kept, and
 *   stopped only after HEARTBEAT_GRACE_MS more silence;
 * - a claim that never got a worker row (a crash between claim and register)
 *   goes back to pending, or ends cancelled if an operator asked it to stop.
 */
@Injectable()
export class OrphanMonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrphanMonitorService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Silent workers already reported as alive, so the log says it once per silence. */
  private readonly warned = new Set<string>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig,
    @Inject(WORKER_LAUNCHER) private readonly launcher: WorkerLauncher,
    private readonly workers: WorkerRepository,
    private readonly jobs: JobRepository,
    private readonly attempts: AttemptService,
    private readonly launches: JobLaunchService,
    private readonly metrics: ConductorMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.adoptAll().catch((error: unknown) => this.logger.error(`adopting workers failed: ${errorMessage(error)}`));
    this.timer = setInterval(() => void this.check(), this.config.orphanCheckIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Loads every live worker of this launcher kind from Postgres and watches it from now on. */
  async adoptAll(): Promise<number> {
    let adopted = 0;
    for (const worker of await this.workers.findLive(this.launcher.kind)) {
      const handle = await this.launcher.adopt(worker);
      if (handle === null) continue;
      adopted += 1;
      if (worker.launcherHandle === null) await this.workers.markLaunched(worker.id, handle);
      await this.workers.appendEvent(worker.id, 'adopted', { handle });
      const alive = await this.launcher.isAlive(handle).catch(() => true);
      if (!alive) {
        await this.end(worker, 'exited before shutdown while no conductor was watching', { retryable: true, event: 'exited', detail: { handle } });
      }
    }
    if (adopted > 0) this.logger.log(`adopted ${adopted} worker(s) from a previous conductor`);
    return adopted;
  }

  /** One pass; overlapping calls share the pass in progress. */
  check(): Promise<void> {
    this.running ??= this.checkOnce()
      .catch((error: unknown) => this.logger.error(`orphan check failed: ${errorMessage(error)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    const now = Date.now();
    await this.enforceHandshakeDeadline(now);
    await this.checkSilentWorkers(now);
    const released = await this.jobs.releaseUnregisteredClaims(new Date(now - this.config.handshakeDeadlineMs));
    for (const { id, status } of released) {
      const outcome = status === 'cancelled' ? 'ended cancelled, as an operator had asked' : 'back to pending, its attempt given back';
      this.logger.warn(`job ${id} was claimed but never got a worker; ${outcome}`);
    }
    if (released.length > 0) this.launches.requestAdmission();
  }

  private async enforceHandshakeDeadline(now: number): Promise<void> {
    const late = await this.workers.findWithoutHandshake(new Date(now - this.config.handshakeDeadlineMs));
    for (const worker of late) {
      const handle = worker.launcherHandle ?? (await this.launcher.adopt(worker));
      const reason = `no handshake within ${this.config.handshakeDeadlineMs} ms`;
      // Ended first: the exit the stop causes then finds the attempt already decided, with this reason.
      await this.end(worker, reason, { retryable: true, event: 'handshake-deadline', detail: { handle } });
      if (handle !== null) await this.stop(worker, handle, reason);
    }
  }

  private async checkSilentWorkers(now: number): Promise<void> {
    const silent = await this.workers.findSilent(new Date(now - this.config.heartbeatTimeoutMs));
    for (const worker of silent) {
      const silentMs = now - worker.lastEventAt.getTime();
      const handle = worker.launcherHandle;
      let alive: boolean | undefined;
      if (handle !== null) {
        try {
          alive = await this.launcher.isAlive(handle);
        } catch (error) {
          // Not knowing is not proof of death: keep it until the grace runs out.
          this.logger.warn(`cannot ask the launcher about worker ${worker.id} (${handle}): ${errorMessage(error)}`);
        }
      }
      if (alive === false) {
        await this.end(worker, `heartbeat lost for ${silentMs} ms and the ${this.launcher.kind} worker is gone`, {
          retryable: true,
          event: 'heartbeat-lost',
          detail: { silentMs, handle, alive: false },
        });
        continue;
      }
      if (silentMs > this.config.heartbeatTimeoutMs + this.config.heartbeatGraceMs) {
        const reason = `heartbeat lost for ${silentMs} ms; stopped although the launcher still saw it`;
        await this.end(worker, reason, { retryable: true, event: 'heartbeat-lost', detail: { silentMs, handle, alive: alive ?? null } });
        if (handle !== null) await this.stop(worker, handle, reason);
        continue;
      }
      if (!this.warned.has(worker.id)) {
        this.warned.add(worker.id);
        this.logger.warn(`worker ${worker.id} of job ${worker.jobId} silent for ${silentMs} ms but still ${alive ? 'alive' : 'unknown'}; keeping it`);
        await this.workers.appendEvent(worker.id, 'heartbeat-missed', { silentMs, handle, alive: alive ?? null });
      }
    }
  }

  private async stop(worker: Worker, handle: string, reason: string): Promise<void> {
    try {
      await this.launcher.stop(handle, reason);
    } catch (error) {
      // An ended worker is refused by the API anyway, so it cannot do work even if the stop did not land.
      this.logger.error(`could not stop worker ${worker.id} (${handle}): ${errorMessage(error)}`);
    }
  }

  private async end(worker: Worker, reason: string, options: EndAttemptOptions): Promise<void> {
    this.warned.delete(worker.id);
    this.metrics.orphanDetected(options.event);
    const next = await this.attempts.endAttempt(worker, reason, options);
    await this.launches.afterAttempt(worker.jobId, next);
  }
}
