import { DEFAULT_LOGS_INSIGHTS_OPTIONS, roleAssumingTelemetry, type AlarmTelemetrySourceFactory } from '@agent-conductor/aws';
import type { STSClient } from '@aws-sdk/client-sts';
import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { InvestigationAccessModule } from '../investigation-access/investigation-access.module';
import { STS_CLIENT } from '../investigation-access/sts-client';
import { ALARM_TELEMETRY, IncidentEvidenceService } from './incident-evidence.service';

/**
 * A job with an investigation role reads its account's telemetry (alarms, metrics and Logs Insights) through that role
 * (docs/incident-access.md); any other with the conductor's own credentials. One client per account, region and role.
 */
function jobRoleTelemetry(config: Pick<ConductorConfig, 'cloudWatchEndpoint' | 'incidentLogsMaxWaitSeconds'>, sts: STSClient): AlarmTelemetrySourceFactory {
  return roleAssumingTelemetry({
    sts,
    client: { maxAttempts: 3, requestTimeoutMs: 10_000, ...(config.cloudWatchEndpoint ? { endpoint: config.cloudWatchEndpoint } : {}) },
    logs: { ...DEFAULT_LOGS_INSIGHTS_OPTIONS, maxWaitMs: config.incidentLogsMaxWaitSeconds * 1000 },
  });
}

/** The evidence pack of incident jobs: CloudWatch alarms, history, metric data, charts and Logs Insights, put in the task files. */
@Module({
  imports: [InvestigationAccessModule],
  providers: [{ provide: ALARM_TELEMETRY, useFactory: jobRoleTelemetry, inject: [CONDUCTOR_CONFIG, STS_CLIENT] }, IncidentEvidenceService],
  exports: [IncidentEvidenceService],
})
export class IncidentEvidenceModule {}
