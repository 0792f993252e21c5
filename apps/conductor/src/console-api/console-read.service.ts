import {
  ConsoleQueryError,
  ConsoleQueryRepository,
  type ConsoleDeliveryDetail,
  type ConsoleDeliveryItem,
  type ConsoleIncidentItem,
  type ConsoleJobDetail,
  type ConsoleJobFilter,
  type ConsoleJobItem,
  type ConsoleWorkerItem,
  type Page,
  type PageRequest,
} from '@agent-conductor/db';
import { redactSecrets, redactValue } from '@agent-conductor/contracts';
import { claimLimitOf } from '@agent-conductor/scheduling-domain';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { JobResultFiles } from './job-result-files';
import { QueueDepthReader, type QueueDepth } from './queue-depths';

export type ConsoleJobView = Omit<ConsoleJobDetail, 'resultsFrom'> & {
  /** The ending report (Markdown, redacted) of the newest attempt that uploaded results. */
  report: string | null;
  transcriptAvailable: boolean;
};

export interface ConsoleIncidentView extends ConsoleIncidentItem {
  windowMinutes: number;
  capMinutes: number;
}

export interface ConsoleAdmissionView {
  maxActive: number;
  active: number;
  claims: Array<{ claim: string; limit: number; active: number; waiting: number }>;
  waiting: Array<{ jobId: string; claim: string; reason: string | null; since: string; notBefore: string | null }>;
}

export interface ConsoleOverview {
  active: number;
  maxActive: number;
  pending: number;
  queue: QueueDepth | null;
  dlq: QueueDepth | null;
  queueErrors: string[];
  last24h: { succeeded: number; failed: number; cancelled: number; successRate: number | null; medianDurationMs: number | null };
}

const DAY_MS = 24 * 3_600_000;

type ReadConfig = Pick<ConductorConfig, 'maxActiveJobs' | 'repoMaxActiveJobs' | 'incidentPolicy'>;

/** The console's read API: the read model, the result store and SQS, shaped for HTTP. */
@Injectable()
export class ConsoleReadService {
  constructor(
    private readonly query: ConsoleQueryRepository,
    private readonly resultFiles: JobResultFiles,
    private readonly queues: QueueDepthReader,
    @Inject(CONDUCTOR_CONFIG) private readonly config: ReadConfig,
  ) {}

  jobs(filter: ConsoleJobFilter, page: PageRequest): Promise<Page<ConsoleJobItem>> {
    return badCursorIs400(() => this.query.jobs(filter, page));
  }

  async job(id: string): Promise<ConsoleJobView> {
    const detail = found(await this.query.job(id), 'job', id);
    const files = await this.attemptFiles(detail);
    const { resultsFrom, ...view } = detail;
    return {
      ...view,
      // Errors and event details carry agent and git output: scrubbed like every other text the console shows.
      error: view.error === null ? null : redactSecrets(view.error),
      events: view.events.map((event) => ({ ...event, detail: redactValue(event.detail) as typeof event.detail })),
      // Reviewers paste logs and tokens into comments as readily as agents do into reports.
      followUpRequests: view.followUpRequests.map((request) => ({ ...request, body: redactSecrets(request.body) })),
      commentsNotActedOn: view.commentsNotActedOn.map((comment) => ({ ...comment, body: redactSecrets(comment.body) })),
      report: files?.report ?? null,
      transcriptAvailable: (files?.transcript ?? null) !== null,
    };
  }

  async transcript(id: string): Promise<string> {
    const detail = found(await this.query.job(id), 'job', id);
    const transcript = (await this.attemptFiles(detail))?.transcript;
    if (!transcript) throw new NotFoundException(`job ${id} has no transcript`);
    return transcript;
  }

  async incidents(page: PageRequest): Promise<Page<ConsoleIncidentView>> {
    const incidents = await badCursorIs400(() => this.query.incidents(page));
    return { ...incidents, items: incidents.items.map((item) => this.withPolicy(item)) };
  }

  async incident(id: string): Promise<ConsoleIncidentView> {
    return this.withPolicy(found(await this.query.incident(id), 'incident', id));
  }

  deliveries(filter: { rejected?: boolean | undefined }, page: PageRequest): Promise<Page<ConsoleDeliveryItem>> {
    return badCursorIs400(() => this.query.deliveries(filter, page));
  }

  async delivery(id: string): Promise<ConsoleDeliveryDetail> {
    return found(await this.query.delivery(id), 'delivery', id);
  }

  workers(filter: { active?: boolean | undefined }, page: PageRequest): Promise<Page<ConsoleWorkerItem>> {
    return badCursorIs400(() => this.query.workers(filter, page));
  }

  queueDepths(): Promise<{ intake: QueueDepth | null; dlq: QueueDepth | null; errors: string[] }> {
    return this.queues.read();
  }

  async admission(): Promise<ConsoleAdmissionView> {
    const facts = await this.query.admission();
    const limits = { maxActiveJobs: this.config.maxActiveJobs, claimMaxActiveJobs: this.config.repoMaxActiveJobs };
    return {
      maxActive: this.config.maxActiveJobs,
      active: facts.active,
      claims: facts.claims.map((use) => ({ ...use, limit: claimLimitOf({ claimLimit: use.limit }, limits) })),
      waiting: facts.waiting,
    };
  }

  async overview(now: Date = new Date()): Promise<ConsoleOverview> {
    const [stats, queues] = await Promise.all([this.query.jobStats(new Date(now.getTime() - DAY_MS)), this.queues.read()]);
    // A cancel is an operator's choice, not an agent's outcome: the rate is over the jobs that ran their course.
    const ended = stats.succeeded + stats.failed;
    return {
      active: stats.active,
      maxActive: this.config.maxActiveJobs,
      pending: stats.pending,
      queue: queues.intake,
      dlq: queues.dlq,
      queueErrors: queues.errors,
      last24h: {
        succeeded: stats.succeeded,
        failed: stats.failed,
        cancelled: stats.cancelled,
        successRate: ended === 0 ? null : stats.succeeded / ended,
        medianDurationMs: stats.medianDurationMs,
      },
    };
  }

  private attemptFiles(detail: ConsoleJobDetail): ReturnType<JobResultFiles['read']> {
    const from = detail.resultsFrom;
    if (!from) return Promise.resolve(undefined);
    const worker = detail.workers.find((candidate) => candidate.id === from.workerId);
    return this.resultFiles.read({ jobId: detail.id, workerId: from.workerId, attempt: from.attempt }, worker?.state === 'ended');
  }

  private withPolicy<T extends ConsoleIncidentItem>(incident: T): T & { windowMinutes: number; capMinutes: number } {
    return { ...incident, windowMinutes: this.config.incidentPolicy.windowMs / 60_000, capMinutes: this.config.incidentPolicy.capMs / 60_000 };
  }
}

function found<T>(value: T | null, what: string, id: string): T {
  if (value === null) throw new NotFoundException(`no ${what} ${id}`);
  return value;
}

async function badCursorIs400<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ConsoleQueryError) throw new BadRequestException(error.message);
    throw error;
  }
}
