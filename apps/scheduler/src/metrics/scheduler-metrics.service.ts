import { createMetricsRegistry } from '@agent-conductor/observability';
import type { RecordMessageResult } from '@agent-conductor/scheduling';
import { Injectable } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The scheduler's Prometheus metrics, in a registry of its own (tests run several apps in one process). */
@Injectable()
export class SchedulerMetrics {
  readonly registry: Registry = createMetricsRegistry('scheduler');

  private readonly decided = new Counter({
    name: 'scheduler_messages_decided_total',
    help: 'Messages persisted and decided, by classification (ticket, alarm, update, rejected) and whether the message id was already known.',
    labelNames: ['classification', 'duplicate'] as const,
    registers: [this.registry],
  });
  private readonly spawns = new Counter({
    name: 'scheduler_spawn_decisions_total',
    help: 'Jobs decided (one agent each), by kind (ticket, incident); redeliveries repeat their original decisions.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'scheduler_submit_errors_total',
    help: 'Messages (SubmitMessage calls, or messages of a SubmitMessages batch) that failed to persist (database errors); the conductor leaves those messages on the queue.',
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'scheduler_decision_duration_seconds',
    help: 'Duration of SchedulingService.submit: classify, render and the persisting transaction.',
    labelNames: ['classification'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Times one decision and counts its outcome; `classification` is `error` for a decision that threw. */
  async observeDecision(decide: () => Promise<RecordMessageResult>): Promise<RecordMessageResult> {
    const stop = this.duration.startTimer();
    let result: RecordMessageResult;
    try {
      result = await decide();
    } catch (error) {
      stop({ classification: 'error' });
      this.errors.inc();
      throw error;
    }
    stop({ classification: result.classification });
    this.decisionRecorded(result);
    return result;
  }

  /** Counts one decision of a batch (SubmitMessages), timed by SchedulingService.submitMany. */
  batchDecisionRecorded(result: RecordMessageResult, seconds: number): void {
    this.duration.observe({ classification: result.classification }, seconds);
    this.decisionRecorded(result);
  }

  /** Counts one message of a batch that failed to persist. */
  batchDecisionFailed(seconds: number): void {
    this.duration.observe({ classification: 'error' }, seconds);
    this.errors.inc();
  }

  private decisionRecorded(result: RecordMessageResult): void {
    this.decided.inc({ classification: result.classification, duplicate: String(result.duplicate) });
    for (const decision of result.decisions) this.spawns.inc({ kind: decision.kind });
  }


  render(): Promise<string> {
    return this.registry.metrics();
  }
}
