import {
  AlarmFacts,
  type IncidentLogsQuery,
  type InvestigationAccess,
  IncidentPolicy,
  incidentLookupBounds,
  isAlarmState,
  jobRepositoriesOf,
  mergeJobRepositories,
  MetricFacts,
  renderIncidentTask,
  RouteRepository,
} from '@agent-conductor/scheduling-domain';
import type { AlarmOutcome, IncidentGroupInput, SpawnDecisionRecord } from '../repositories/ingest.repository';
import { IngestClient, iso, rows, statement } from './sql';
import { uuidv7 } from './uuidv7';

/**
 * A pending incident job's TASK.md lists at most this many alarms (the earliest), so re-rendering it on every join
 * costs the same however long a flapping alarm keeps the incident going; the rest are counted, not listed.
 */
export const INCIDENT_TASK_ALARM_LIMIT = 50;

export interface IngestAlarmInput {
  deliveryId: string;
  alarm: AlarmFacts;
  repository: string;
  /** The rest of the job's route, for a spawning alarm (RecordMessageInput). */
  branch: string | null;
  sparsePaths: string[];
  workerTaskDefinition: string | null;
  claim: string;
  claimLimit: number | null;
  maxTokens: number | null;
  approvalRequired: boolean;
  /** The route's several repositories (jobs.repositories), or null: the one repository. */
  repositories: RouteRepository[] | null;
  /** The route's incident group; the caller holds the group's lock (incidentLockKey). Null: no group. */
  group: IncidentGroupInput | null;
  /** The route's Logs Insights query for the evidence pack (jobs.incident_logs), or null. */
  incidentLogs: IncidentLogsQuery | null;
  /** The account rule's investigation role (jobs.investigation); null: none. */
  investigation: InvestigationAccess | null;
  policy: IncidentPolicy;
}

export interface IngestAlarmResult {
  alarm: AlarmOutcome;
  decision: SpawnDecisionRecord | null;
}

const ALARM_COLUMNS = `"id", "delivery_id", "account", "region", "alarm_name", "alarm_arn", "state", "reason", "event_time", "incident_id", "metrics"`;

/** $2 account … $8 event time ($9: metrics, after the incident id): the alarm's own values, as alarmValues() gives them. */
const ALARM_FIELDS = `$2::text, $3::text, $4::text, $5::text, $6::"AlarmState", $7::text, $8::timestamptz`;

/** $1 is the delivery id when the delivery is already stored, or the message id when the statement stores it. */
function alarmValues(first: string, alarm: AlarmFacts): unknown[] {
  return [
    first,
    alarm.account,
    alarm.region,
    alarm.alarmName,
    alarm.alarmArn,
    alarm.state,
    alarm.reason,
    iso(alarm.eventTime),
    JSON.stringify(alarm.metrics),
  ];
}

/** The earliest `limit` ALARMs of all incidents of a job, as a JSON array (AlarmFacts fields; parseListedAlarms). */
function listJobAlarms(jobId: string, limit: string): string {
  return `
           SELECT COALESCE(json_agg(listed ORDER BY listed."eventTime", listed."id"), '[]'::json)
             FROM (SELECT a."id", a."account", a."region", a."alarm_name" AS "alarmName", a."alarm_arn" AS "alarmArn",
                          a."state", a."reason", a."event_time" AS "eventTime", a."metrics"
                     FROM "alarms" a
                    WHERE a."incident_id" IN (SELECT o."id" FROM "incidents" o WHERE o."job_id" = ${jobId})
                      AND a."state" = 'ALARM'::"AlarmState"
                    ORDER BY a."event_time", a."id"
                    LIMIT ${limit}::int) listed`;
}

/*
 * Lookup and write in one statement. The advisory lock was taken by the statement before, so this statement's
 * snapshot already includes every incident committed by whoever held the lock earlier; two transactions can never
 * both conclude "no incident yet". Exactly one of `span` (join) and `job` → `incident` (spawn) writes.
 *
 * For a join whose job is still pending, the incident's earliest alarms come back (as they were before this one),
 * so the caller can re-render TASK.md; the snapshot does not see the alarm inserted here, which the caller adds.
 */
const RECORD_ACTIVE_ALARM = statement(
  'record-active-alarm',
  `
  WITH reachable AS (
    SELECT i."id", i."job_id", j."key" AS "job_key", j."status" = 'pending'::"JobStatus" AS "pending",
           -- A job may hold incidents of several accounts of a group: its TASK.md counts and lists all their alarms.
           (SELECT SUM(o."alarm_count") FROM "incidents" o WHERE o."job_id" = i."job_id")::int AS "job_alarm_count"
      FROM "incidents" i
      JOIN "jobs" j ON j."id" = i."job_id"
     WHERE i."account" = $2::text
       AND i."last_event_at" BETWEEN $10::timestamptz AND $11::timestamptz
       AND i."first_event_at" BETWEEN $12::timestamptz AND $13::timestamptz
     ORDER BY i."first_event_at", i."id"
     LIMIT 1
  ), span AS (
    UPDATE "incidents" i
       SET "first_event_at" = LEAST(i."first_event_at", $8::timestamptz),
           "last_event_at" = GREATEST(i."last_event_at", $8::timestamptz),
           "alarm_count" = i."alarm_count" + 1,
           "updated_at" = CURRENT_TIMESTAMP
      FROM reachable
     WHERE i."id" = reachable."id"
    RETURNING i."id"
  ), job AS (
    INSERT INTO "jobs" ("id", "kind", "key", "delivery_id", "repository", "branch", "sparse_paths", "worker_task_definition",
                        "claim_key", "claim_limit", "max_tokens", "approval", "status", "task_markdown", "repositories", "incident_logs", "updated_at", "investigation")
    SELECT $17::uuid, 'incident'::"JobKind", $2::text, $1::uuid, $14::text, $20::text, $21::text[], $22::text,
           $23::text, $24::int, $25::int4, $26::"JobApproval", 'pending'::"JobStatus", $15::text, $27::jsonb, $28::jsonb, CURRENT_TIMESTAMP, $29::jsonb
     WHERE NOT EXISTS (SELECT 1 FROM reachable)
    RETURNING "id"
  ), incident AS (
    INSERT INTO "incidents" ("id", "account", "first_event_at", "last_event_at", "alarm_count", "job_id", "updated_at",
                             "incident_logs", "investigation")
    SELECT $18::uuid, $2::text, $8::timestamptz, $8::timestamptz, 1, job."id", CURRENT_TIMESTAMP, $28::jsonb, $29::jsonb
      FROM job
    RETURNING "id", "job_id"
  ), alarm AS (
    INSERT INTO "alarms" (${ALARM_COLUMNS})
    VALUES ($19::uuid, $1::uuid, ${ALARM_FIELDS}, COALESCE((SELECT "id" FROM span), (SELECT "id" FROM incident)), $9::jsonb)
    RETURNING "id"
  )
  SELECT alarm."id" AS "alarmId",
         COALESCE(reachable."id", incident."id") AS "incidentId",
         COALESCE(reachable."job_id", incident."job_id") AS "jobId",
         reachable."id" IS NULL AS "spawned",
         reachable."job_key" AS "jobKey",
         reachable."job_alarm_count" AS "alarmCount",
         CASE WHEN reachable."pending" THEN (${listJobAlarms('reachable."job_id"', '$16')}) END AS "alarms"
    FROM alarm
    LEFT JOIN reachable ON TRUE
    LEFT JOIN incident ON TRUE`,
);

interface ActiveAlarmRow {
  alarmId: string;
  incidentId: string;
  jobId: string;
  spawned: boolean;
  /** The joined incident's job's account (its key). */
  jobKey: string | null;
  /** ALARMs of all the job's incidents, before this one. */
  alarmCount: number | null;
  /** Only for a join whose job is pending. */
  alarms: unknown;
}

/*
 * incident-group.ts#chooseGroupJob for an ALARM of a grouped account that starts no incident of its own account: the
 * earliest incident of another account of the group accepting its time whose job is still pending. FOR UPDATE holds
 * that job row until commit, so the conductor cannot claim it in between; a job claimed meanwhile fails the re-check
 * after the wait and is skipped. $1 account, $2 the group's accounts, $3–$6 incidentLookupBounds.
 */
const GROUP_TARGET = statement(
  'group-target',
  `
  SELECT j."id" AS "jobId", j."key", j."repository", j."branch", j."sparse_paths" AS "sparsePaths", j."repositories"
    FROM "incidents" i
    JOIN "jobs" j ON j."id" = i."job_id"
   WHERE i."account" = ANY($2::text[]) AND i."account" <> $1::text
     AND i."last_event_at" BETWEEN $3::timestamptz AND $4::timestamptz
     AND i."first_event_at" BETWEEN $5::timestamptz AND $6::timestamptz
     AND j."status" = 'pending'::"JobStatus"
     AND NOT EXISTS (SELECT 1 FROM "incidents" own
                      WHERE own."account" = $1::text
                        AND own."last_event_at" BETWEEN $3::timestamptz AND $4::timestamptz
                        AND own."first_event_at" BETWEEN $5::timestamptz AND $6::timestamptz)
   ORDER BY i."first_event_at", i."id"
   LIMIT 1
   FOR UPDATE OF j`,
);

interface GroupTargetRow {
  jobId: string;
  key: string;
  repository: string;
  branch: string | null;
  sparsePaths: string[];
  repositories: unknown;
}

/*
 * The attached incident and its first alarm, on the target job; plus, as before them, the job's alarms (earliest
 * $13) and their count, to re-render its TASK.md. $10 job, $11 incident id, $12 alarm id, $14 and $15 the attached
 * account's own logs query and investigation role (its evidence and agent access go through them, not the job's).
 */
const ATTACH_INCIDENT = statement(
  'attach-incident',
  `
  WITH incident AS (
    INSERT INTO "incidents" ("id", "account", "first_event_at", "last_event_at", "alarm_count", "job_id", "updated_at",
                             "incident_logs", "investigation")
    VALUES ($11::uuid, $2::text, $8::timestamptz, $8::timestamptz, 1, $10::uuid, CURRENT_TIMESTAMP, $14::jsonb, $15::jsonb)
    RETURNING "id"
  ), alarm AS (
    INSERT INTO "alarms" (${ALARM_COLUMNS})
    VALUES ($12::uuid, $1::uuid, ${ALARM_FIELDS}, (SELECT "id" FROM incident), $9::jsonb)
    RETURNING "id"
  )
  SELECT alarm."id" AS "alarmId", incident."id" AS "incidentId",
         (SELECT COALESCE(SUM(o."alarm_count"), 0) FROM "incidents" o WHERE o."job_id" = $10::uuid)::int AS "alarmCount",
         (${listJobAlarms('$10::uuid', '$13')}) AS "alarms"
    FROM alarm, incident`,
);

const UPDATE_ATTACHED_JOB = statement(
  'update-attached-job',
  `UPDATE "jobs" SET "task_markdown" = $2::text, "repositories" = $3::jsonb, "updated_at" = CURRENT_TIMESTAMP
    WHERE "id" = $1::uuid AND "status" = 'pending'::"JobStatus"
   RETURNING "id"`,
);

/*
 * incidentCoversRecovery: first <= t <= last + window; last <= first + cap bounds the index range from above.
 * The delivery insert is part of the statement, so a recovery is one round trip with no explicit transaction.
 */
const RECORD_RECOVERY = statement(
  'record-recovery',
  `
  WITH delivery AS (
    INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification")
    VALUES ($14::uuid, $1::text, $10::timestamptz, $11::text, 'alarm'::"DeliveryClassification")
    ON CONFLICT ("sqs_message_id") DO NOTHING
    RETURNING "id"
  ), covering AS (
    SELECT i."id" FROM "incidents" i
     WHERE i."account" = $2::text
       AND i."last_event_at" BETWEEN $12::timestamptz AND $13::timestamptz
       AND i."first_event_at" <= $8::timestamptz
     ORDER BY i."first_event_at", i."id"
     LIMIT 1
  ), alarm AS (
    INSERT INTO "alarms" (${ALARM_COLUMNS})
    SELECT $15::uuid, delivery."id", ${ALARM_FIELDS}, (SELECT "id" FROM covering), $9::jsonb
      FROM delivery
    RETURNING "id", "delivery_id", "incident_id"
  )
  SELECT alarm."delivery_id" AS "deliveryId", alarm."id" AS "alarmId", alarm."incident_id" AS "incidentId" FROM alarm`,
);

const UPDATE_PENDING_TASK = statement(
  'update-pending-task',
  `UPDATE "jobs" SET "task_markdown" = $2::text, "updated_at" = CURRENT_TIMESTAMP
    WHERE "id" = $1::uuid AND "status" = 'pending'::"JobStatus"`,
);

/**
 * The incident rules of @agent-conductor/scheduling-domain for an ALARM, on a transaction that has already stored
 * the delivery and holds the account's advisory lock: one statement that looks up the earliest incident accepting
 * the alarm's event time (incidents (account, last_event_at), bounded by window and cap) and either joins it or
 * spawns job + incident; plus, only while a joined incident's job is pending, one update of its TASK.md.
 */
export async function recordActiveAlarm(client: IngestClient, input: IngestAlarmInput): Promise<IngestAlarmResult> {
  const { alarm, deliveryId, repository } = input;
  const bounds = incidentLookupBounds(alarm.eventTime, input.policy);
  if (input.group !== null) {
    const attached = await attachToGroupJob(client, input, input.group, bounds);
    if (attached !== null) return attached;
  }
  // Rendered up front: whether this alarm spawns is only known inside the statement.
  const spawnTask = renderIncidentTask({ account: alarm.account, region: alarm.region, alarms: [alarm] });
  const [row] = await rows<ActiveAlarmRow>(client, RECORD_ACTIVE_ALARM, [
    ...alarmValues(deliveryId, alarm),
    iso(bounds.lastFrom),
    iso(bounds.lastTo),
    iso(bounds.firstFrom),
    iso(bounds.firstTo),
    repository,
    spawnTask,
    INCIDENT_TASK_ALARM_LIMIT,
    // Job, incident and alarm ids (time-ordered; the job and incident ones are unused when the alarm joins).
    uuidv7(),
    uuidv7(),
    uuidv7(),
    // The job's route (used only when the alarm spawns).
    input.branch,
    input.sparsePaths,
    input.workerTaskDefinition,
    input.claim,
    input.claimLimit,
    input.maxTokens,
    input.approvalRequired ? 'required' : 'none',
    input.repositories === null ? null : JSON.stringify(input.repositories),
    input.incidentLogs === null ? null : JSON.stringify(input.incidentLogs),
    input.investigation === null ? null : JSON.stringify(input.investigation),
  ]);
  if (!row) {
    throw new Error(`recordMessage: storing alarm ${alarm.alarmName} of account ${alarm.account} returned no row`);
  }
  if (row.spawned) {
    return {
      alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'spawned' },
      decision: { jobId: row.jobId, kind: 'incident', key: alarm.account, repository, incidentId: row.incidentId },
    };
  }
  if (row.alarms !== null && row.alarms !== undefined) {
    // The job is launched from task_markdown: while nobody has claimed it, it should show every alarm so far.
    const taskMarkdown = renderJoinedTask(row.jobKey ?? alarm.account, alarm, parseListedAlarms(row.alarms), (row.alarmCount ?? 0) + 1);
    await rows(client, UPDATE_PENDING_TASK, [row.jobId, taskMarkdown]);
  }
  return { alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'joined' }, decision: null };
}

export interface IngestRecoveryInput {
  sqsMessageId: string;
  receivedAt: Date;
  body: string;
  alarm: AlarmFacts;
  policy: IncidentPolicy;
}

/**
 * OK / INSUFFICIENT_DATA: stored with its delivery in one statement, against the incident covering it. No lock: it
 * changes no incident. Null when the message id was recorded before.
 */
export async function recordRecovery(
  client: IngestClient,
  input: IngestRecoveryInput,
): Promise<{ deliveryId: string; alarm: AlarmOutcome } | null> {
  const { alarm, policy } = input;
  const t = alarm.eventTime.getTime();
  const [row] = await rows<{ deliveryId: string; alarmId: string; incidentId: string | null }>(client, RECORD_RECOVERY, [
    ...alarmValues(input.sqsMessageId, alarm),
    iso(input.receivedAt),
    input.body,
    iso(new Date(t - policy.windowMs)),
    iso(new Date(t + policy.capMs)),
    uuidv7(),
    uuidv7(),
  ]);
  if (!row) {
    return null;
  }
  return { deliveryId: row.deliveryId, alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'recorded' } };
}

/**
 * Attaches the alarm's new incident to the pending job of another account of its group, when the rule finds one
 * (GROUP_TARGET): the job gains the route's repositories and the alarm in its TASK.md. Null: the alarm joins or
 * spawns as usual.
 */
async function attachToGroupJob(
  client: IngestClient,
  input: IngestAlarmInput,
  group: IncidentGroupInput,
  bounds: ReturnType<typeof incidentLookupBounds>,
): Promise<IngestAlarmResult | null> {
  const { alarm } = input;
  const [target] = await rows<GroupTargetRow>(client, GROUP_TARGET, [
    alarm.account,
    group.accounts,
    iso(bounds.lastFrom),
    iso(bounds.lastTo),
    iso(bounds.firstFrom),
    iso(bounds.firstTo),
  ]);
  if (!target) return null;
  const [row] = await rows<{ alarmId: string; incidentId: string; alarmCount: number; alarms: unknown }>(client, ATTACH_INCIDENT, [
    ...alarmValues(input.deliveryId, alarm),
    target.jobId,
    uuidv7(),
    uuidv7(),
    INCIDENT_TASK_ALARM_LIMIT,
    input.incidentLogs === null ? null : JSON.stringify(input.incidentLogs),
    input.investigation === null ? null : JSON.stringify(input.investigation),
  ]);
  if (!row) {
    throw new Error(`recordMessage: attaching alarm ${alarm.alarmName} of account ${alarm.account} to job ${target.jobId} returned no row`);
  }
  const current = jobRepositoriesOf({
    repository: target.repository,
    branch: target.branch,
    sparsePaths: target.sparsePaths,
    repositories: parseStoredRepositories(target.repositories),
  });
  const added = jobRepositoriesOf({ repository: input.repository, branch: input.branch, sparsePaths: input.sparsePaths, repositories: input.repositories });
  const repositories = mergeJobRepositories(current, added);
  const taskMarkdown = renderJoinedTask(target.key, alarm, parseListedAlarms(row.alarms), row.alarmCount + 1);
  // Both accounts routed to the one repository: the job stays a plain one-repository job (clone into repo/, no
  // branches.json), as a rule with one repository stores null.
  const stored = repositories.length > 1 ? JSON.stringify(repositories) : null;
  const updated = await rows(client, UPDATE_ATTACHED_JOB, [target.jobId, taskMarkdown, stored]);
  if (updated.length !== 1) {
    // GROUP_TARGET locked the row pending; anything else means the lock did not hold, and the transaction must not commit.
    throw new Error(`recordMessage: job ${target.jobId} left pending while alarm ${alarm.alarmName} was being attached to it`);
  }
  return { alarm: { alarmId: row.alarmId, incidentId: row.incidentId, outcome: 'attached', jobId: target.jobId }, decision: null };
}

/** jobs.repositories as stored ([{ url, branch, name, sparsePaths }] or null), checked back into the domain's shape. */
function parseStoredRepositories(value: unknown): RouteRepository[] | null {
  const stored: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (stored === null || stored === undefined) return null;
  if (!Array.isArray(stored)) throw new Error('recordMessage: jobs.repositories is not a JSON array');
  return stored.map((entry: unknown): RouteRepository => {
    const record = asRecord(entry);
    const { url, branch, name, sparsePaths } = record;
    if (typeof url !== 'string' || typeof branch !== 'string' || typeof name !== 'string' || !Array.isArray(sparsePaths)) {
      throw new Error(`recordMessage: jobs.repositories holds an entry without url, branch, name and sparsePaths: ${JSON.stringify(entry)}`);
    }
    return { url, branch, name, sparsePaths: sparsePaths.filter((path): path is string => typeof path === 'string') };
  });
}

/** The job's TASK.md with the joining alarm; `account` is the job's own (its key), first when it spans several. */
function renderJoinedTask(account: string, joining: AlarmFacts, listed: AlarmFacts[], total: number): string {
  const alarms = [...listed, joining]
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime())
    .slice(0, INCIDENT_TASK_ALARM_LIMIT);
  const first = alarms[0] ?? joining;
  return renderIncidentTask({ account, region: first.region, alarms, totalAlarms: total });
}

/** The alarms the lookup returned as JSON, checked back into AlarmFacts. */
function parseListedAlarms(value: unknown): AlarmFacts[] {
  const listed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(listed)) {
    throw new Error('recordMessage: incident alarms did not come back as a JSON array');
  }
  return listed.map((row: unknown): AlarmFacts => {
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
