import { CloudWatchAlarmTelemetry, createCloudWatchClient, type AlarmTelemetrySource, type AlarmTelemetrySourceFactory } from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { ALARM_TELEMETRY, IncidentEvidenceService } from './incident-evidence.service';

/** The conductor's own credentials, one client per region; a role-assuming factory (per account) replaces this later. */
function ownCredentialsTelemetry(): AlarmTelemetrySourceFactory {
  const byRegion = new Map<string, AlarmTelemetrySource>();
  return ({ region }) => {
    let source = byRegion.get(region);
    if (!source) {
      source = new CloudWatchAlarmTelemetry(createCloudWatchClient({ region, maxAttempts: 3, requestTimeoutMs: 10_000 }));
      byRegion.set(region, source);
    }
    return source;
  };
}

/** The evidence pack of incident jobs: CloudWatch alarms, history, metric data and charts, put in the task files. */
@Module({
  providers: [{ provide: ALARM_TELEMETRY, useFactory: ownCredentialsTelemetry }, IncidentEvidenceService],
  exports: [IncidentEvidenceService],
})
export class IncidentEvidenceModule {}
