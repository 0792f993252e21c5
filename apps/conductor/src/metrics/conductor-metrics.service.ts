import { schedulerV1 } from '@agent-conductor/contracts';
import { JobStatus, PrismaService, WorkerState } from '@agent-conductor/db';
import { createMetricsRegistry } from '@agent-conductor/observability';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEFAULT_OBSERVABILITY, OBSERVABILITY_CONFIG, type ObservabilityConfig } from '../logging/observability.config';
import type { SubmitOutcome } from '../scheduler-client/scheduler-client.service';

const { MessageClassification } = schedulerV1;

/** Failure reasons become label values, so they are kept to a short, bounded vocabulary. */
function reasonLabel(reason: string): string {
  const label = reason.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  return /^[a-z][a-z0-9_]{0,39}$/.test(label) ? label : 'other';
}

interface DbSnapshot {
  jobs: Map<string, number>;
  workers: Map<string, number>;
}

/**
 * The conductor's Prometheus metrics, in a registry of its own. Intake, launch, retry and orphan code call the
 * small methods below; the job and worker gauges are read from Postgres when scraped (one GROUP BY each,
 * cached for METRICS_DB_CACHE_MS so a tight scrape interval or several scrapers cost one query per period).
 */
@Injectable()
export class ConductorMetrics {
  readonly registry: Registry = createMetricsRegistry('conductor');

  private readonly received = new Counter({
    name: 'conductor_messages_received_total',
    help: 'Queue messages handed to the scheduler (every receive, redeliveries included).',
    registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: 'conductor_messages_rejected_total',
    help: 'Messages the scheduler stored as rejected (unparseable or unknown); deleted from the queue.',
    registers: [this.registry],
  });
  private readonly decided = new Counter({
    name: 'conductor_messages_decided_total',
    help: 'Messages the scheduler accepted and decided on, by classification (ticket, alarm, update) and whether it was a redelivery.',
    labelNames: ['classification', 'duplicate'] as const,
    registers: [this.registry],
  });
  private readonly spawnDecisions = new Counter({
    name: 'conductor_spawn_decisions_total',
    help: 'Jobs the scheduler decided to spawn, as reported back to the conductor.',
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: 'conductor_messages_failed_total',
    help: 'Messages the scheduler did not commit (unreachable, or the message failed); they stay on the queue.',
    registers: [this.registry],
  });
  private readonly submitDuration = new Histogram({
    name: 'conductor_submit_message_duration_seconds',
    help: 'Round trip of the SubmitMessages batch that carried each message to the scheduler, i.e. decision latency seen by the conductor.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly launches = new Counter({
    name: 'conductor_worker_launches_total',
    help: 'Workers launched (a process or task started for a claimed job attempt).',
    registers: [this.registry],
  });
  private readonly attemptFailures = new Counter({
    name: 'conductor_attempt_failures_total',
    help: 'Worker attempts ended by an infrastructure failure, by reason (launch_failed, register_failed, exited, handshake_deadline, heartbeat_lost).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'conductor_job_retries_total',
    help: 'Jobs put back to pending for another attempt after an infrastructure failure.',
    registers: [this.registry],
  });
  private readonly orphans = new Counter({
    name: 'conductor_orphaned_workers_total',
    help: 'Workers found orphaned by the monitor, by reason (handshake_deadline, heartbeat_lost, exited while unwatched).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private snapshot: { at: number; value: Promise<DbSnapshot> } | undefined;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly prisma: PrismaService,
    @Optional() @Inject(OBSERVABILITY_CONFIG) config?: ObservabilityConfig,
  ) {
    this.cacheMs = config?.metricsDbCacheMs ?? DEFAULT_OBSERVABILITY.metricsDbCacheMs;
    this.timeoutMs = config?.healthCheckTimeoutMs ?? DEFAULT_OBSERVABILITY.healthCheckTimeoutMs;
    // collect() runs with the gauge as `this`; the snapshot comes from the service.
    const dbSnapshot = (): Promise<DbSnapshot | undefined> => this.dbSnapshot();
    new Gauge({
      name: 'conductor_metrics_db_up',
      help: '1 when the last jobs/workers count from Postgres succeeded; 0 means the job and worker gauges are stale.',
      registers: [this.registry],
      async collect() {
        this.set((await dbSnapshot()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'conductor_jobs',
      help: 'Jobs by status, from Postgres.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const snapshot = await dbSnapshot();
        if (!snapshot) return;
        for (const status of Object.values(JobStatus)) this.set({ status }, snapshot.jobs.get(status) ?? 0);
      },
    });
    new Gauge({
      name: 'conductor_workers',
      help: 'Workers that have not ended, by state (registered, launched, connected), from Postgres.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const snapshot = await dbSnapshot();
        if (!snapshot) return;
        for (const state of Object.values(WorkerState)) if (state !== 'ended') this.set({ state }, snapshot.workers.get(state) ?? 0);
      },
    });
    new Gauge({
      name: 'conductor_active_workers',
      help: 'Workers that have not ended (launched or running an agent), from Postgres.',
      registers: [this.registry],
      async collect() {
        const snapshot = await dbSnapshot();
        if (!snapshot) return;
        let active = 0;
        for (const count of snapshot.workers.values()) active += count;
        this.set(active);
      },
    });
  }

  messageReceived(): void {
    this.received.inc();
  }

  messageRejected(): void {
    this.rejected.inc();
  }

  messageDecided(classification: 'ticket' | 'alarm' | 'update', decisions: number, duplicate = false): void {
    this.decided.inc({ classification, duplicate: String(duplicate) });
    this.spawnDecisions.inc(decisions);
  }

  messageFailed(): void {
    this.failed.inc();
  }

  /**
   * Wraps one SubmitMessages call: counts its messages, times the round trip (each message's decision latency as the
   * conductor sees it) and records what the scheduler did with each, so the intake needs a single call.
   */
  async observeSubmit(size: number, submit: () => Promise<SubmitOutcome[]>): Promise<SubmitOutcome[]> {
    this.received.inc(size);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    let outcomes: SubmitOutcome[];
    try {
      outcomes = await submit();
    } catch (error) {
      const elapsed = seconds();
      for (let index = 0; index < size; index += 1) this.submitDuration.observe({ outcome: 'error' }, elapsed);
      this.failed.inc(size);
      throw error;
    }
    const elapsed = seconds();
    for (const outcome of outcomes) {
      if (!('response' in outcome)) {
        this.submitDuration.observe({ outcome: 'error' }, elapsed);
        this.messageFailed();
        continue;
      }
      this.submitDuration.observe({ outcome: 'ok' }, elapsed);
      const { response } = outcome;
      if (response.classification === MessageClassification.MESSAGE_CLASSIFICATION_REJECTED) this.messageRejected();
      else if (response.classification === MessageClassification.MESSAGE_CLASSIFICATION_TICKET) this.messageDecided('ticket', response.decisions.length, response.duplicate);
      else if (response.classification === MessageClassification.MESSAGE_CLASSIFICATION_ALARM) this.messageDecided('alarm', response.decisions.length, response.duplicate);
      else if (response.classification === MessageClassification.MESSAGE_CLASSIFICATION_UPDATE) this.messageDecided('update', response.decisions.length, response.duplicate);
    }
    return outcomes;
  }

  launchStarted(): void {
    this.launches.inc();
  }

  /** An attempt ended by an infrastructure failure; `reason` is a short kind, not the message. */
  attemptFailed(reason: string): void {
    this.attemptFailures.inc({ reason: reasonLabel(reason) });
  }

  jobRetried(): void {
    this.retries.inc();
  }

  orphanDetected(reason: string): void {
    this.orphans.inc({ reason: reasonLabel(reason) });
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** undefined when Postgres did not answer: the gauges keep their last values and conductor_metrics_db_up says 0. */
  private async dbSnapshot(): Promise<DbSnapshot | undefined> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at >= this.cacheMs) {
      this.snapshot = { at: now, value: this.queryCounts() };
    }
    // The three gauges share one query per period; a failed one is not cached, so the next scrape retries.
    const pending = this.snapshot;
    try {
      return await pending.value;
    } catch {
      if (this.snapshot === pending) this.snapshot = undefined;
      return undefined;
    }
  }

  private async queryCounts(): Promise<DbSnapshot> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('metrics query timed out')), this.timeoutMs);
    });
    try {
      const [jobs, workers] = await Promise.race([
        Promise.all([
          this.prisma.job.groupBy({ by: ['status'], _count: { _all: true } }),
          this.prisma.worker.groupBy({ by: ['state'], where: { state: { not: 'ended' } }, _count: { _all: true } }),
        ]),
        timeout,
      ]);
      return {
        jobs: new Map(jobs.map((row) => [row.status, row._count._all])),
        workers: new Map(workers.map((row) => [row.state, row._count._all])),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
