import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { HttpJiraClient, JIRA_CLIENT, type JiraClient } from './jira.client';
import { JiraReportDeliveryService } from './jira-report-delivery.service';
import { JiraReportRecorder } from './jira-report.recorder';

function jiraClient(config: ConductorConfig): JiraClient | null {
  return config.jira ? new HttpJiraClient(config.jira) : null;
}

/** Reporting a ticket job's end back to its Jira issue (docs/jira.md); inert without JIRA_BASE_URL. */
@Module({
  providers: [{ provide: JIRA_CLIENT, useFactory: jiraClient, inject: [CONDUCTOR_CONFIG] }, JiraReportRecorder, JiraReportDeliveryService],
  exports: [JiraReportRecorder, JiraReportDeliveryService],
})
export class JiraModule {}
