import { parseAwsTimestamp } from './aws-time';
import { array, describeJsonType, fail, JsonRecord, nonEmptyString, ok, Parsed, record, truncate } from './json';
import { ALARM_STATES, AlarmFacts, AlarmState, isAlarmState, MetricFacts } from './types';

const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';

/** EventBridge events carry `detail-type`; CloudWatch ones also carry `source: aws.cloudwatch`. */
export function looksLikeEventBridgeEvent(body: JsonRecord): boolean {
  return 'detail-type' in body || body['source'] === 'aws.cloudwatch';
}

/** The JSON that CloudWatch publishes to an SNS topic when an alarm changes state. */
export function looksLikeSnsAlarmNotification(message: JsonRecord): boolean {
  return 'AlarmName' in message || 'NewStateValue' in message;
}

export function parseEventBridgeAlarm(event: JsonRecord): Parsed<AlarmFacts> {
  const detailType = event['detail-type'];
  if (detailType !== ALARM_DETAIL_TYPE) {
    const what = typeof detailType === 'string' ? `"${truncate(detailType, 60)}"` : `missing (${describeJsonType(detailType)})`;
    return fail(`EventBridge event detail-type ${what} is not supported (expected "${ALARM_DETAIL_TYPE}")`);
  }
  if (event['source'] !== 'aws.cloudwatch') {
    return fail(`EventBridge alarm event has source ${quote(event['source'])}, expected "aws.cloudwatch"`);
  }
  const detail = record(event['detail']);
  const state = record(detail['state']);
  const resources = array(event['resources']).map(nonEmptyString);

  return buildAlarm('CloudWatch alarm event', {
    account: event['account'],
    alarmName: detail['alarmName'],
    state: state['value'],
    reason: state['reason'],
    eventTime: event['time'],
    region: nonEmptyString(event['region']),
    alarmArn: resources.find((arn): arn is string => arn !== null && arn.includes(':alarm:')) ?? null,
    metrics: array(record(detail['configuration'])['metrics']).flatMap(eventBridgeMetric),
  });
}

function eventBridgeMetric(entry: unknown): MetricFacts[] {
  // Metric-math expressions have no metricStat: there is no single metric to report for them.
  const metric = record(record(record(entry)['metricStat'])['metric']);
  if (Object.keys(metric).length === 0) return [];
  const dimensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(record(metric['dimensions']))) {
    const text = dimensionValue(value);
    if (text !== null) dimensions[name] = text;
  }
  return [{ namespace: nonEmptyString(metric['namespace']), name: nonEmptyString(metric['name']), dimensions }];
}

export function parseSnsAlarmNotification(message: JsonRecord): Parsed<AlarmFacts> {
  const alarmArn = nonEmptyString(message['AlarmArn']);
  const trigger = record(message['Trigger']);
  return buildAlarm('CloudWatch alarm notification', {
    account: message['AWSAccountId'],
    alarmName: message['AlarmName'],
    state: message['NewStateValue'],
    reason: message['NewStateReason'],
    eventTime: message['StateChangeTime'],
    // SNS gives a display name ("US West (Oregon)"); the ARN has the code that EventBridge events use.
    region: regionFromArn(alarmArn) ?? nonEmptyString(message['Region']),
    alarmArn,
    metrics: snsMetrics(trigger),
  });
}

function snsMetrics(trigger: JsonRecord): MetricFacts[] {
  if ('MetricName' in trigger || 'Namespace' in trigger) {
    return [{ namespace: nonEmptyString(trigger['Namespace']), name: nonEmptyString(trigger['MetricName']), dimensions: snsDimensions(trigger['Dimensions']) }];
  }
  // Metric-math alarms list their inputs under Trigger.Metrics[].MetricStat.Metric instead.
  return array(trigger['Metrics']).flatMap((entry) => {
    const metric = record(record(record(entry)['MetricStat'])['Metric']);
    if (Object.keys(metric).length === 0) return [];
    return [{ namespace: nonEmptyString(metric['Namespace']), name: nonEmptyString(metric['MetricName']), dimensions: snsDimensions(metric['Dimensions']) }];
  });
}

function snsDimensions(value: unknown): Record<string, string> {
  const dimensions: Record<string, string> = {};
  for (const entry of array(value)) {
    const name = nonEmptyString(record(entry)['name']);
    const text = dimensionValue(record(entry)['value']);
    if (name !== null && text !== null) dimensions[name] = text;
  }
  return dimensions;
}

function dimensionValue(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function regionFromArn(arn: string | null): string | null {
  // arn:partition:service:region:account:resource
  return nonEmptyString(arn?.split(':')[3]);
}

interface RawAlarm {
  account: unknown;
  alarmName: unknown;
  state: unknown;
  reason: unknown;
  eventTime: unknown;
  region: string | null;
  alarmArn: string | null;
  metrics: MetricFacts[];
}

/** Validates the fields both alarm shapes share, so both reject for the same causes with the same words. */
function buildAlarm(what: string, raw: RawAlarm): Parsed<AlarmFacts> {
  const account = accountId(raw.account);
  if (account === null) return fail(`${what} has no AWS account id`);

  const alarmName = nonEmptyString(raw.alarmName);
  if (alarmName === null) return fail(`${what} for account ${account} has no alarm name`);

  if (raw.state === undefined || raw.state === null) return fail(`${what} ${alarmName} has no state value`);
  if (!isAlarmState(raw.state)) {
    return fail(`${what} ${alarmName} has an invalid state value ${quote(raw.state)} (expected one of ${ALARM_STATES.join(', ')})`);
  }
  const state: AlarmState = raw.state;

  if (typeof raw.eventTime !== 'string') {
    return fail(`${what} ${alarmName} has no event time (got ${describeJsonType(raw.eventTime)})`);
  }
  const eventTime = parseAwsTimestamp(raw.eventTime);
  if (eventTime === null) return fail(`${what} ${alarmName} has an unparseable event time ${quote(raw.eventTime)}`);

  return ok({
    account,
    region: raw.region,
    alarmName,
    state,
    reason: nonEmptyString(raw.reason),
    eventTime,
    alarmArn: raw.alarmArn,
    metrics: raw.metrics,
  });
}

function accountId(value: unknown): string | null {
  // Account ids are 12 digits with leading zeros; a number would already have lost them, so only strings count.
  return nonEmptyString(value);
}

function quote(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return `"${truncate(value, 60)}"`;
  if (value === null || typeof value === 'object') return describeJsonType(value);
  return `${describeJsonType(value)} ${truncate(String(value), 40)}`;
}
