import type { STSClient } from '@aws-sdk/client-sts';
import { assumedRoleProvider, MAX_SESSION_SECONDS, type InvestigationRole } from '../sts/assume-role';
import { CloudWatchAlarmTelemetry, type AlarmTelemetrySource, type AlarmTelemetrySourceFactory } from './alarm-telemetry';
import { createCloudWatchClient, type CloudWatchClientOptions } from './cloudwatch-client';
import { createCloudWatchLogsClient } from './cloudwatch-logs-client';
import { CloudWatchLogsInsights, type LogsInsightsOptions } from './logs-insights';

export interface RoleAssumingTelemetryOptions {
  sts: STSClient;
  /** The investigation role a route names for this account, or null to read it with the conductor's own credentials. */
  roleFor: (account: string) => InvestigationRole | null;
  client?: Omit<CloudWatchClientOptions, 'region' | 'credentials'>;
  logs?: LogsInsightsOptions;
}

/**
 * Reads each account's telemetry through its own investigation role (AssumeRole with the external id, no session
 * policy: the role's read-only policy is the limit), one cached source and session per account and region.
 */
export function roleAssumingTelemetry(options: RoleAssumingTelemetryOptions): AlarmTelemetrySourceFactory {
  const sources = new Map<string, AlarmTelemetrySource>();
  return ({ account, region }) => {
    const key = `${account}/${region}`;
    let source = sources.get(key);
    if (!source) {
      const role = options.roleFor(account);
      const credentials = role
        ? assumedRoleProvider(options.sts, { ...role, sessionName: `conductor-evidence-${account}`, durationSeconds: MAX_SESSION_SECONDS })
        : undefined;
      const clientOptions: CloudWatchClientOptions = { ...options.client, region, ...(credentials ? { credentials } : {}) };
      source = new CloudWatchAlarmTelemetry(createCloudWatchClient(clientOptions), new CloudWatchLogsInsights(createCloudWatchLogsClient(clientOptions), options.logs));
      sources.set(key, source);
    }
    return source;
  };
}
