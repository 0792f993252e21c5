import {
  AlarmFacts,
  DEFAULT_INCIDENT_POLICY,
  IncidentPolicy,
  incidentLookupBounds,
  incidentPolicyProblems,
  isAlarmActive,
  isAlarmState,
  MetricFacts,
  renderIncidentTask,
} from '@agent-conductor/scheduling-domain';
import { Prisma } from '../generated/prisma/client';
import type { AlarmOutcome, SpawnDecisionRecord } from './ingest.repository';

type Tx = Prisma.TransactionClient;

/**
 * A pending incident job's TASK.md lists at most this many alarms (the earliest), so re-rendering it on every join
 * costs the same however long a flapping alarm keeps the incident going; the rest are counted, not listed.
 */
export const INCIDENT_TASK_ALARM_LIMIT = 50;

export interface RecordAlarmInput {
  deliveryId: string;
  alarm: AlarmFacts;
  repository: string;
  policy?: IncidentPolicy;
}

export interface RecordAlarmResult {
  alarm: AlarmOutcome;
  decision: SpawnDecisionRecord | null;
}

interface ReachableIncident {
  id: string;
  jobId: string;
  alarmCount: number;
  /** Only when the job is still pending: its TASK.md is re-rendered from these. */
  alarms: unknown;
}

/*
 * Timestamps go to Postgres as ISO-8601 text with an explicit cast: the driver adapter would send a Date as a
 * zone-less string, which Postgres reads in the session's time zone.
 */
const iso = (date: Date): string => date.toISOString();

/**
 * The incident rules of @agent-conductor/scheduling-domain, run inside the ingest transaction with a fixed number of
 * statements per alarm and no scan of history:
 *
 * 1. `pg_advisory_xact_lock` on the account: concurrent alarms of one account (other replicas, other connections)
 *    queue here, so the lookup below always sees every incident committed before, and two transactions can never
 *    both decide "no incident yet".
 * 2. One indexed lookup (incidents (account, last_event_at)) of the earliest incident that accepts the alarm's
 *    event time, bounded by window and cap (incidentLookupBounds). For a pending job it brings the alarms needed to
 *    re-render TASK.md (at most INCIDENT_TASK_ALARM_LIMIT, by index).
 * 3. One statement that writes: either job + incident + alarm (spawn) or incident span + alarm (+ TASK.md) (join).
 *
 * OK / INSUFFICIENT_DATA take no lock: they change no incident, and are recorded against the incident covering them.
 */
export class IncidentScheduler {
  async recordAlarm(tx: Tx, input: RecordAlarmInput): Promise<RecordAlarmResult> {
    const policy = input.policy ?? DEFAULT_INCIDENT_POLICY;
    const problems = incidentPolicyProblems(policy);
    if (problems.length > 0) {
      throw new Error(`recordMessage: invalid incident policy: ${problems.join('; ')}`);
    }
    return isAlarmActive(input.alarm) ? this.recordActive(tx, input, policy) : this.recordRecovery(tx, input, policy);
  }

  private async recordActive(tx: Tx, input: RecordAlarmInput, policy: IncidentPolicy): Promise<RecordAlarmResult> {
    const { alarm } = input;
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`incident:${alarm.account}`}, 0))`;

    const bounds = incidentLookupBounds(alarm.eventTime, policy);
    const [reachable] = await tx.$queryRaw<ReachableIncident[]>`
      SELECT i."id", i."job_id" AS "jobId", i."alarm_count" AS "alarmCount",
             CASE WHEN j."status" = 'pending'::"JobStatus" THEN (
               SELECT COALESCE(json_agg(listed ORDER BY listed."eventTime", listed."id"), '[]'::json)
                 FROM (SELECT a."id", a."account", a."region", a."alarm_name" AS "alarmName", a."alarm_arn" AS "alarmArn",
                              a."state", a."reason", a."event_time" AS "eventTime", a."metrics"
                         FROM "alarms" a
                        WHERE a."incident_id" = i."id" AND a."state" = 'ALARM'::"AlarmState"
                        ORDER BY a."event_time", a."id"
                        LIMIT ${INCIDENT_TASK_ALARM_LIMIT}) listed
             ) END AS "alarms"
        FROM "incidents" i
        JOIN "jobs" j ON j."id" = i."job_id"
       WHERE i."account" = ${alarm.account}
         AND i."last_event_at" BETWEEN ${iso(bounds.lastFrom)}::timestamptz AND ${iso(bounds.lastTo)}::timestamptz
         AND i."first_event_at" BETWEEN ${iso(bounds.firstFrom)}::timestamptz AND ${iso(bounds.firstTo)}::timestamptz
       ORDER BY i."first_event_at", i."id"
       LIMIT 1`;

    if (reachable) {
      return this.join(tx, input, reachable);
    }
    return this.spawn(tx, input);
  }

  private async spawn(tx: Tx, input: RecordAlarmInput): Promise<RecordAlarmResult> {
    const { alarm, deliveryId, repository } = input;
    const taskMarkdown = renderIncidentTask({ account: alarm.account, region: alarm.region, alarms: [alarm] });
    const [row] = await tx.$queryRaw<Array<{ alarmId: string; incidentId: string; jobId: string }>>`
      WITH job AS (
        INSERT INTO "jobs" ("id", "kind", "key", "delivery_id", "repository", "status", "task_markdown", "updated_at")
        VALUES (gen_random_uuid(), 'incident'::"JobKind", ${alarm.account}, ${deliveryId}::uuid, ${repository},
                'pending'::"JobStatus", ${taskMarkdown}, CURRENT_TIMESTAMP)
        RETURNING "id"
      ), incident AS (
        INSERT INTO "incidents" ("id", "account", "first_event_at", "last_event_at", "alarm_count", "job_id", "updated_at")
        SELECT gen_random_uuid(), ${alarm.account}, ${iso(alarm.eventTime)}::timestamptz, ${iso(alarm.eventTime)}::timestamptz,
               1, job."id", CURRENT_TIMESTAMP
          FROM job
        RETURNING "id", "job_id"
      ), alarm AS (
        ${insertAlarm(deliveryId, alarm, Prisma.sql`(SELECT "id" FROM incident)`)}
        RETURNING "id"
      )
      SELECT alarm."id" AS "alarmId", incident."id" AS "incidentId", incident."job_id" AS "jobId" FROM alarm, incident`;
    if (!row) {
      throw new Error(`recordMessage: creating the incident for account ${alarm.account} returned no row`);
    }
    return {
      alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'spawned' },
      decision: { jobId: row.jobId, kind: 'incident', key: alarm.account, repository, incidentId: row.incidentId },
    };
  }

  private async join(tx: Tx, input: RecordAlarmInput, incident: ReachableIncident): Promise<RecordAlarmResult> {
    const { alarm, deliveryId } = input;
    // The job is launched from task_markdown: while nobody has claimed it, it should show every alarm so far.
    const taskMarkdown =
      incident.alarms === null || incident.alarms === undefined
        ? null
        : renderJoinedTask(alarm, parseListedAlarms(incident.alarms), incident.alarmCount + 1);
    const [row] = await tx.$queryRaw<Array<{ alarmId: string }>>`
      WITH span AS (
        UPDATE "incidents"
           SET "first_event_at" = LEAST("first_event_at", ${iso(alarm.eventTime)}::timestamptz),
               "last_event_at" = GREATEST("last_event_at", ${iso(alarm.eventTime)}::timestamptz),
               "alarm_count" = "alarm_count" + 1,
               "updated_at" = CURRENT_TIMESTAMP
         WHERE "id" = ${incident.id}::uuid
        RETURNING "id"
      ), task AS (
        UPDATE "jobs" SET "task_markdown" = ${taskMarkdown}::text, "updated_at" = CURRENT_TIMESTAMP
         WHERE "id" = ${incident.jobId}::uuid AND "status" = 'pending'::"JobStatus" AND ${taskMarkdown}::text IS NOT NULL
      )
      ${insertAlarm(deliveryId, alarm, Prisma.sql`(SELECT "id" FROM span)`)}
      RETURNING "id" AS "alarmId"`;
    if (!row) {
      throw new Error(`recordMessage: adding an alarm to incident ${incident.id} returned no row`);
    }
    return { alarm: { alarmId: row.alarmId, incidentId: incident.id, outcome: 'joined' }, decision: null };
  }

  private async recordRecovery(tx: Tx, input: RecordAlarmInput, policy: IncidentPolicy): Promise<RecordAlarmResult> {
    const { alarm, deliveryId } = input;
    // incidentCoversRecovery: first <= t <= last + window; last <= first + cap bounds the index range from above.
    const t = alarm.eventTime.getTime();
    const [row] = await tx.$queryRaw<Array<{ alarmId: string; incidentId: string | null }>>`
      WITH covering AS (
        SELECT i."id" FROM "incidents" i
         WHERE i."account" = ${alarm.account}
           AND i."last_event_at" BETWEEN ${iso(new Date(t - policy.windowMs))}::timestamptz AND ${iso(new Date(t + policy.capMs))}::timestamptz
           AND i."first_event_at" <= ${iso(alarm.eventTime)}::timestamptz
         ORDER BY i."first_event_at", i."id"
         LIMIT 1
      )
      ${insertAlarm(deliveryId, alarm, Prisma.sql`(SELECT "id" FROM covering)`)}
      RETURNING "id" AS "alarmId", "incident_id" AS "incidentId"`;
    if (!row) {
      throw new Error(`recordMessage: storing alarm ${alarm.alarmName} returned no row`);
    }
    return { alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'recorded' }, decision: null };
  }
}

function insertAlarm(deliveryId: string, alarm: AlarmFacts, incidentId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "alarms" ("id", "delivery_id", "account", "region", "alarm_name", "alarm_arn", "state", "reason",
                          "event_time", "incident_id", "metrics")
    VALUES (gen_random_uuid(), ${deliveryId}::uuid, ${alarm.account}, ${alarm.region}, ${alarm.alarmName}, ${alarm.alarmArn},
            ${alarm.state}::"AlarmState", ${alarm.reason}, ${iso(alarm.eventTime)}::timestamptz, ${incidentId},
            ${JSON.stringify(alarm.metrics)}::jsonb)`;
}

function renderJoinedTask(joining: AlarmFacts, listed: AlarmFacts[], total: number): string {
  const alarms = [...listed, joining]
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime())
    .slice(0, INCIDENT_TASK_ALARM_LIMIT);
  const first = alarms[0] ?? joining;
  return renderIncidentTask({ account: joining.account, region: first.region, alarms, totalAlarms: total });
}

/** The alarms the lookup returned as JSON, checked back into AlarmFacts. */
function parseListedAlarms(value: unknown): AlarmFacts[] {
  const rows: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(rows)) {
    throw new Error('recordMessage: incident alarms did not come back as a JSON array');
  }
  return rows.map((row: unknown): AlarmFacts => {
    const record = asRecord(row);
    const state = record['state'];
    const eventTime = new Date(String(record['eventTime']));
    if (!isAlarmState(state) || Number.isNaN(eventTime.getTime())) {
      throw new Error(`recordMessage: stored alarm ${String(record['id'])} has an invalid state or event time`);
    }
    return {
      account: String(record['account']),
      region: nullableText(record['region']),
      alarmName: String(record['alarmName']),
      alarmArn: nullableText(record['alarmArn']),
      state,
      reason: nullableText(record['reason']),
      eventTime,
      metrics: Array.isArray(record['metrics']) ? record['metrics'].map(parseMetric) : [],
    };
  });
}

function parseMetric(value: unknown): MetricFacts {
  const record = asRecord(value);
  const dimensions: Record<string, string> = {};
  for (const [name, text] of Object.entries(asRecord(record['dimensions']))) {
    if (typeof text === 'string') dimensions[name] = text;
  }
  return { namespace: nullableText(record['namespace']), name: nullableText(record['name']), dimensions };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function nullableText(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
