import { secretRedactor } from '@agent-conductor/contracts';
import { JiraReportRepository, JobRepository, type Prisma } from '@agent-conductor/db';
import { Inject, Injectable } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { jiraReportText, type EndedTicketJob } from './jira-report-text';

/**
 * Queues the Jira report of a ticket job that just ended, inside the transaction that ended it: the report is
 * durable exactly when the end is. Incidents, cancelled jobs and a conductor without Jira queue nothing.
 */
@Injectable()
export class JiraReportRecorder {
  private readonly redact: (text: string) => string;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'jira'>,
    private readonly jobs: JobRepository,
    private readonly reports: JiraReportRepository,
  ) {
    const credentials = config.jira?.credentials;
    this.redact = secretRedactor([credentials?.kind === 'basic' ? credentials.apiToken : credentials?.token]);
  }

  async jobEnded(jobId: string, attempt: number, tx: Prisma.TransactionClient): Promise<void> {
    if (!this.config.jira) return;
    const job = await this.jobs.findById(jobId, tx);
    if (!job || job.kind !== 'ticket' || (job.status !== 'succeeded' && job.status !== 'failed')) return;
    const result = reportedResult(job.result);
    const text = jiraReportText({ id: job.id, key: job.key, status: job.status, error: job.error, result }, attempt, this.redact);
    // A failed job stays where it is on the board: the comment says why.
    const transition = job.status === 'succeeded' ? job.jiraTransition : null;
    await this.reports.record({ jobId, attempt, issueKey: job.key, outcome: job.status, body: text, transition }, tx);
  }
}

/** The strings the report uses from the job's `result` column; anything else in it is left out. */
function reportedResult(value: Prisma.JsonValue): EndedTicketJob['result'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const result: NonNullable<EndedTicketJob['result']> = {};
  for (const field of ['pullRequest', 'report', 'summary'] as const) {
    const text = value[field];
    if (typeof text === 'string' && text !== '') result[field] = text;
  }
  return result;
}
