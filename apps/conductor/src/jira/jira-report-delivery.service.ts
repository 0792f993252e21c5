import { secretRedactor } from '@agent-conductor/contracts';
import { JiraReportRepository, type JiraReport } from '@agent-conductor/db';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { JiraConfig } from '../config/env.validators';
import { retryDelayMs } from '../launch/retry-policy';
import { errorText, JIRA_CLIENT, JiraCallError, type JiraClient } from './jira.client';
import { jiraReportMarker } from './jira-report-text';

/** Reports taken per pass; a backlog after an outage drains over a few passes. */
const BATCH = 20;

/**
 * Delivers the queued Jira reports (jira_reports). A failure is retried with full-jitter backoff until
 * JIRA_MAX_TRIES, then given up; the job's outcome is never touched. A comment is posted at most once per
 * (job, attempt): the row keeps the comment's id, and a retry first looks for the report's marker among the issue's
 * comments, since an earlier try may have reached Jira without its answer reaching us.
 */
@Injectable()
export class JiraReportDeliveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JiraReportDeliveryService.name);
  private readonly redact: (text: string) => string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: { jira?: JiraConfig },
    @Inject(JIRA_CLIENT) private readonly client: JiraClient | null,
    private readonly reports: JiraReportRepository,
  ) {
    const credentials = config.jira?.credentials;
    this.redact = secretRedactor([credentials?.kind === 'basic' ? credentials.apiToken : credentials?.token]);
  }

  onApplicationBootstrap(): void {
    if (!this.config.jira || !this.client) return;
    this.timer = setInterval(() => void this.deliver(), this.config.jira.pollIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; overlapping calls share the pass in progress. Returns how many comments it posted or found. */
  deliver(): Promise<number> {
    this.running ??= this.deliverOnce()
      .catch((error: unknown) => {
        this.logger.error(`Jira delivery pass failed: ${this.redact(errorText(error))}`);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async deliverOnce(): Promise<number> {
    const jira = this.config.jira;
    const client = this.client;
    if (!jira || !client) return 0;
    // The lease outlasts every call a delivery makes, so a slow Jira does not hand the row to a second pass.
    const due = await this.reports.claimDue(BATCH, 5 * jira.timeoutMs);
    let done = 0;
    for (const report of due) {
      if (await this.deliverOne(report, client, jira)) done += 1;
    }
    return done;
  }

  private async deliverOne(report: JiraReport, client: JiraClient, jira: JiraConfig): Promise<boolean> {
    try {
      if (report.transition) await this.transition(report, report.transition, client);
      const commentId = (report.tries > 1 ? await this.postedEarlier(report, client) : undefined) ?? (await client.addComment(report.issueKey, report.body));
      await this.reports.markPosted(report.id, commentId);
      this.logger.log(`job ${report.jobId} attempt ${report.attempt}: reported to Jira ${report.issueKey} (comment ${commentId})`);
      return true;
    } catch (error) {
      const reason = this.redact(errorText(error));
      const retryable = !(error instanceof JiraCallError) || error.retryable;
      if (!retryable || report.tries >= jira.maxTries) {
        await this.reports.giveUp(report.id, reason);
        this.logger.error(`job ${report.jobId} attempt ${report.attempt}: gave up reporting to Jira ${report.issueKey} after ${report.tries} tries: ${reason}`);
      } else {
        const nextTryAt = new Date(Date.now() + retryDelayMs(report.tries, jira));
        await this.reports.markFailed(report.id, reason, nextTryAt);
        this.logger.warn(`job ${report.jobId} attempt ${report.attempt}: Jira ${report.issueKey} not reached (${reason}); next try at ${nextTryAt.toISOString()}`);
      }
      return false;
    }
  }

  /**
   * Moves the issue through the route's transition, found by name among those open from its current status. Before the
   * comment, so the comment stays the last step: a retry after a transition that went through no longer finds it
   * open (the issue is past it) and moves on to the comment.
   */
  private async transition(report: JiraReport, name: string, client: JiraClient): Promise<void> {
    const open = await client.listTransitions(report.issueKey);
    const wanted = open.find((transition) => transition.name.toLowerCase() === name.toLowerCase());
    if (!wanted) {
      this.logger.warn(
        `job ${report.jobId}: Jira ${report.issueKey} offers no transition "${name}" from its status (open: ${open.map((transition) => transition.name).join(', ') || 'none'}); left as it is`,
      );
      return;
    }
    await client.applyTransition(report.issueKey, wanted.id);
  }

  /** The id of a comment an earlier try posted, found by the report's marker. */
  private async postedEarlier(report: JiraReport, client: JiraClient): Promise<string | undefined> {
    const marker = jiraReportMarker(report.jobId, report.attempt);
    const comments = await client.listComments(report.issueKey);
    return comments.find((comment) => comment.text.includes(marker))?.id;
  }
}
