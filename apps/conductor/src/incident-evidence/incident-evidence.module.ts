import {
  CloudWatchAlarmTelemetry,
  CloudWatchLogsInsights,
  createCloudWatchClient,
  createCloudWatchLogsClient,
  DEFAULT_LOGS_INSIGHTS_OPTIONS,
  type AlarmTelemetrySource,
  type AlarmTelemetrySourceFactory,
  type CloudWatchClientOptions,
} from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { ALARM_TELEMETRY, IncidentEvidenceService } from './incident-evidence.service';

/** The conductor's own credentials, one client per region; a role-assuming factory (per account) replaces this later. */
function ownCredentialsTelemetry(config: Pick<ConductorConfig, 'cloudWatchEndpoint' | 'incidentLogsMaxWaitSeconds'>): AlarmTelemetrySourceFactory {
  const byRegion = new Map<string, AlarmTelemetrySource>();
  return ({ region }) => {
    let source = byRegion.get(region);
    if (!source) {
      const client: CloudWatchClientOptions = { region, maxAttempts: 3, requestTimeoutMs: 10_000, ...(config.cloudWatchEndpoint ? { endpoint: config.cloudWatchEndpoint } : {}) };
      const logs = new CloudWatchLogsInsights(createCloudWatchLogsClient(client), { ...DEFAULT_LOGS_INSIGHTS_OPTIONS, maxWaitMs: config.incidentLogsMaxWaitSeconds * 1000 });
      source = new CloudWatchAlarmTelemetry(createCloudWatchClient(client), logs);
      byRegion.set(region, source);
    }
    return source;
  };
}

/** The evidence pack of incident jobs: CloudWatch alarms, history, metric data, charts and Logs Insights, put in the task files. */
@Module({
  providers: [{ provide: ALARM_TELEMETRY, useFactory: ownCredentialsTelemetry, inject: [CONDUCTOR_CONFIG] }, IncidentEvidenceService],
  exports: [IncidentEvidenceService],
})
export class IncidentEvidenceModule {}
