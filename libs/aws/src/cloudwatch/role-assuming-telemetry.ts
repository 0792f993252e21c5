import type { STSClient } from '@aws-sdk/client-sts';
import { assumedRoleProvider, MAX_SESSION_SECONDS, type InvestigationRole } from '../sts/assume-role';
import { CloudWatchAlarmTelemetry, type AlarmTelemetrySource, type AlarmTelemetrySourceFactory } from './alarm-telemetry';
import { createCloudWatchClient, type CloudWatchClientOptions } from './cloudwatch-client';
import { createCloudWatchLogsClient } from './cloudwatch-logs-client';
import { CloudWatchLogsInsights, type LogsInsightsOptions } from './logs-insights';

export interface RoleAssumingTelemetryOptions {
  sts: STSClient;
  /**
   * The investigation role for an account when the caller's target names none, or null to read it with the
   * conductor's own credentials. Absent: only the target's role counts.
   */
  roleFor?: (account: string) => InvestigationRole | null;
  client?: Omit<CloudWatchClientOptions, 'region' | 'credentials'>;
  logs?: LogsInsightsOptions;
}

/**
 * Reads each account's telemetry through its own investigation role (AssumeRole with the external id, no session
 * policy: the role's read-only policy is the limit), one cached source and session per account and region.
 */
export function roleAssumingTelemetry(options: RoleAssumingTelemetryOptions): AlarmTelemetrySourceFactory {
  const sources = new Map<string, AlarmTelemetrySource>();
  return ({ account, region, role: targetRole }) => {
    const role = targetRole ?? options.roleFor?.(account) ?? null;
    // Per role too: two jobs of one account may name different roles (a routing change between them).
    const key = `${account}/${region}/${role ? `${role.roleArn}/${role.externalId}` : ''}`;
    let source = sources.get(key);
    if (!source) {
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
