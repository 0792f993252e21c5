import type { UpdateFacts } from './follow-up';

export type JobKind = 'ticket' | 'incident';

export interface TicketFacts {
  key: string;
  externalId: string | null;
  projectKey: string | null;
  summary: string;
  description: string;
  labels: string[];
  components: string[];
  issueType: string | null;
  priority: string | null;
}

export type AlarmState = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

export interface MetricFacts {
  namespace: string | null;
  name: string | null;
  dimensions: Record<string, string>;
}

export interface AlarmFacts {
  account: string;
  region: string | null;
  alarmName: string;
  state: AlarmState;
  reason: string | null;
  eventTime: Date;
  alarmArn: string | null;
  metrics: MetricFacts[];
}

export type ClassifiedMessage =
  | { classification: 'ticket'; source: 'jira-issue' | 'jira-webhook'; ticket: TicketFacts }
  | { classification: 'alarm'; source: 'eventbridge' | 'sns'; alarm: AlarmFacts }
  /** A Jira ticket update or comment, or a GitHub review event: recorded, and maybe a follow-up (docs/follow-ups.md). */
  | { classification: 'update'; source: 'github' | 'jira-webhook'; update: UpdateFacts }
  | { classification: 'rejected'; reason: string };

export const JOB_KINDS: readonly JobKind[] = ['ticket', 'incident'];

export function isJobKind(value: unknown): value is JobKind {
  return typeof value === 'string' && (JOB_KINDS as readonly string[]).includes(value);
}

export const ALARM_STATES: readonly AlarmState[] = ['ALARM', 'OK', 'INSUFFICIENT_DATA'];

export function isAlarmState(value: unknown): value is AlarmState {
  return typeof value === 'string' && (ALARM_STATES as readonly string[]).includes(value);
}
