import { CloudWatchAlarmTelemetry, createCloudWatchClient, type AlarmTelemetrySource, type AlarmTelemetrySourceFactory } from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { ALARM_TELEMETRY, IncidentEvidenceService } from './incident-evidence.service';

/** The conductor's own credentials, one client per region; a role-assuming factory (per account) replaces this later. */
function ownCredentialsTelemetry(config: Pick<ConductorConfig, 'cloudWatchEndpoint'>): AlarmTelemetrySourceFactory {
  const byRegion = new Map<string, AlarmTelemetrySource>();
  return ({ region }) => {
    let source = byRegion.get(region);
    if (!source) {
      source = new CloudWatchAlarmTelemetry(createCloudWatchClient({ region, maxAttempts: 3, requestTimeoutMs: 10_000, ...(config.cloudWatchEndpoint ? { endpoint: config.cloudWatchEndpoint } : {}) }));
      byRegion.set(region, source);
    }
    return source;
  };
}

/** The evidence pack of incident jobs: CloudWatch alarms, history, metric data and charts, put in the task files. */
@Module({
  providers: [{ provide: ALARM_TELEMETRY, useFactory: ownCredentialsTelemetry, inject: [CONDUCTOR_CONFIG] }, IncidentEvidenceService],
  exports: [IncidentEvidenceService],
})
export class IncidentEvidenceModule {}
