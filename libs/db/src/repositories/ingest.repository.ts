import {
  ClassifiedMessage,
  DEFAULT_FOLLOW_UP_POLICY,
  DEFAULT_INCIDENT_POLICY,
  InvestigationAccess,
  escapeNul,
  FollowUpPolicy,
  incidentLockKey,
  type IncidentLogsQuery,
  IncidentPolicy,
  incidentPolicyProblems,
  isAlarmActive,
  RouteRepository,
  TicketFacts,
  ticketOfMessage,
} from '@agent-conductor/scheduling-domain';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import type { DeliveryClassification, JobKind } from '../generated/prisma/client';
import { recordUpdate } from '../ingest/follow-up-ingest';
import { recordActiveAlarm, recordRecovery } from '../ingest/incident-ingest';
import { dataException, IngestClient, iso, rows, statement } from '../ingest/sql';
import { uuidv7 } from '../ingest/uuidv7';

export interface RecordMessageInput {
  sqsMessageId: string;
  receivedAt: Date;
  /** The raw queue body, stored as delivered. */
  body: string;
  classified: ClassifiedMessage;
  /** Repository a spawned job works on. */
  repository: string;
  /**
   * The rest of the spawned job's route (the scheduling domain's Route): the branch it starts from (absent: null, the
   * conductor's DEFAULT_REPOSITORY_BRANCH), the paths of a sparse clone (absent: none, the whole repository) and the
   * ECS task definition of its worker (absent: null, the conductor's ECS_TASK_DEFINITION), and its agent's token
   * budget (absent: null, the worker's AGENT_MAX_TOKENS alone).
   */
  branch?: string;
  sparsePaths?: string[];
  workerTaskDefinition?: string;
  /** The claim key admission counts the job under (the domain's claimOf(route)); absent: the repository. */
  claim?: string;
  /** The route's maxActive for that claim; absent: null, the conductor's REPO_MAX_ACTIVE_JOBS. */
  claimLimit?: number;
  maxTokens?: number;
  /** The route's `"approval": "required"`: the job waits for an operator (jobs.approval = required). */
  approvalRequired?: boolean;
  /** The route's Jira transition for a ticket's job (jobs.jira_transition); incidents have no Jira issue. */
  jiraTransition?: string;
  /** The incident route's Logs Insights query (jobs.incident_logs); tickets have none. */
  incidentLogs?: IncidentLogsQuery;
  /** The incident route's investigation role (jobs.investigation); tickets have none. */
  investigation?: InvestigationAccess;
  /** TASK.md for the job; required for tickets. Incident TASK.md is rendered here, from the incident's alarms. */
  taskMarkdown?: string;
  /** How alarms chain into incidents; DEFAULT_INCIDENT_POLICY when absent. */
  incidentPolicy?: IncidentPolicy;
  /** Who may start follow-ups, and how a comment addresses the agent; DEFAULT_FOLLOW_UP_POLICY when absent. */
  followUpPolicy?: FollowUpPolicy;
  /**
   * An incident route's several repositories (jobs.repositories; the first is `repository`). Absent: null, the one
   * repository. An incident attached to another account's job adds them to that job's (deduplicated by URL).
   */
  repositories?: RouteRepository[];
  /** The alarm's incident group (its route's `group`) and the accounts routed into it: see incident-group.ts. */
  incidentGroup?: IncidentGroupInput;
}

export interface IncidentGroupInput {
  name: string;
  accounts: string[];
}

/** A follow-up job is a ticket or incident job continuing an earlier one; decisions name it apart. */
export type SpawnKind = JobKind | 'follow-up';

export interface SpawnDecisionRecord {
  jobId: string;
  kind: SpawnKind;
  /** Ticket key, or the AWS account id for incidents. */
  key: string;
  repository: string;
  /** The incident this job works on (incident decisions only). */
  incidentId?: string;
}

/**
 * What happened to an alarm delivery: `spawned` (first ALARM of a new incident; the result has its decision),
 * `joined` (an ALARM added to an existing incident), `attached` (first ALARM of a new incident that went to the
 * pending job of another account of its group, `jobId`, instead of spawning), `recorded` (OK / INSUFFICIENT_DATA:
 * stored, never spawns; incidentId is the incident it was recorded against, or null).
 */
export interface AlarmOutcome {
  alarmId: string;
  incidentId: string | null;
  outcome: 'spawned' | 'joined' | 'attached' | 'recorded';
  /** For `attached`: the job the incident was attached to. */
  jobId?: string;
}

/**
 * What a comment that asked for a follow-up did (docs/follow-ups.md): `spawned` a new pending follow-up job (the
 * result has its decision), or was `batched` into the thread's follow-up that had not started yet.
 */
export interface FollowUpOutcome {
  outcome: 'spawned' | 'batched';
  /** The follow-up job that answers the comment. */
  jobId: string;
  /** The thread's first job (follow_up_requests.thread_job_id, jobs.follow_up_of). */
  threadJobId: string;
}

export interface RecordMessageResult {
  deliveryId: string;
  /** True when this message id was recorded before; everything else then describes that first delivery. */
  duplicate: boolean;
  classification: DeliveryClassification;
  rejectionReason: string | null;
  decisions: SpawnDecisionRecord[];
  /** Present for alarm deliveries. */
  alarm?: AlarmOutcome;
  /** Present for an update that became a follow-up request. */
  followUp?: FollowUpOutcome;
}


/** Where the ingest path connects. It opens its own pg pool (see the class comment). */
export interface IngestConnection {
  databaseUrl: string;
  /** Connections of the ingest pool; submissions beyond it queue for a connection. Default 10. */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 10;

/*
 * Every row this path creates gets a time-ordered id (UUIDv7, generated here: ../ingest/uuidv7.ts), passed as a
 * parameter, so primary-key and uuid foreign-key index inserts land at the right edge of their B-trees rather than on
 * a random page of the whole history. An id passed for a row that is not written (ON CONFLICT, a join) is unused.
 */
const INSERT_DELIVERY = statement(
  'insert-delivery',
  `
  INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification", "rejection_reason")
  VALUES ($6::uuid, $1::text, $2::timestamptz, $3::text, $4::"DeliveryClassification", $5::text)
  ON CONFLICT ("sqs_message_id") DO NOTHING
  RETURNING "id"`,
);

/*
 * Claims the message id and, only if it was new, queues on the account's advisory lock: concurrent alarms of one
 * account (other replicas, other connections) wait here, so the next statement's snapshot sees every incident
 * committed before. A concurrent duplicate blocks on the message id until the first transaction ends, then sees
 * its row and takes no lock.
 */
const INSERT_ALARM_DELIVERY_AND_LOCK = statement(
  'insert-alarm-delivery-and-lock',
  `
  WITH delivery AS (
    INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification")
    VALUES ($5::uuid, $1::text, $2::timestamptz, $3::text, 'alarm'::"DeliveryClassification")
    ON CONFLICT ("sqs_message_id") DO NOTHING
    RETURNING "id"
  )
  SELECT "id", pg_advisory_xact_lock(hashtextextended($4::text, 0)) AS "locked" FROM delivery`,
);

/*
 * A ticket in one statement: upsert the ticket (later deliveries refresh its text), store the delivery pointing at
 * it, and create the ticket's job unless it has one (jobs.ticket_id is unique: whoever inserts first owns the
 * ticket's only job; the job keeps the TASK.md it was created with). The ticket row lock orders concurrent
 * deliveries of one ticket. A `jira:issue_updated` ($24, its reason) of a ticket seen before is stored as an `update`
 * with that reason; of a new ticket, it is the ticket's first delivery like any other. When the message id turns out to be known, `delivery` is empty, no job is written and
 * the caller rolls back the ticket refresh, so a redelivery changes nothing.
 */
const RECORD_TICKET = statement(
  'record-ticket',
  `
  WITH known AS (
    SELECT "id" FROM "tickets" WHERE "key" = $4::text
  ), ticket AS (
    INSERT INTO "tickets" ("id", "key", "external_id", "project_key", "summary", "description", "labels", "components", "updated_at")
    VALUES ($13::uuid, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text[], $10::text[], CURRENT_TIMESTAMP)
    ON CONFLICT ("key") DO UPDATE SET
      "external_id" = COALESCE(EXCLUDED."external_id", "tickets"."external_id"),
      "project_key" = COALESCE(EXCLUDED."project_key", "tickets"."project_key"),
      "summary" = EXCLUDED."summary",
      "description" = EXCLUDED."description",
      "labels" = EXCLUDED."labels",
      "components" = EXCLUDED."components",
      "updated_at" = CURRENT_TIMESTAMP
    RETURNING "id"
  ), delivery AS (
    INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification", "rejection_reason", "ticket_id")
    SELECT $14::uuid, $1::text, $2::timestamptz, $3::text,
           CASE WHEN $24::text IS NOT NULL AND EXISTS (SELECT 1 FROM known) THEN 'update' ELSE 'ticket' END::"DeliveryClassification",
           CASE WHEN EXISTS (SELECT 1 FROM known) THEN $24::text END, ticket."id"
      FROM ticket
    ON CONFLICT ("sqs_message_id") DO NOTHING
    RETURNING "id", "classification", "rejection_reason"
  ), job AS (
    INSERT INTO "jobs" ("id", "kind", "key", "ticket_id", "delivery_id", "repository", "branch", "sparse_paths",
                        "worker_task_definition", "claim_key", "claim_limit", "max_tokens", "approval", "jira_transition", "status",
                        "task_markdown", "updated_at")
    SELECT $15::uuid, 'ticket'::"JobKind", $4::text, ticket."id", delivery."id", $11::text, $16::text, $17::text[], $18::text,
           $19::text, $20::int, $21::int4, $22::"JobApproval", $23::text, 'pending'::"JobStatus", $12::text, CURRENT_TIMESTAMP
      FROM ticket, delivery
    ON CONFLICT ("ticket_id") DO NOTHING
    RETURNING "id"
  )
  SELECT delivery."id" AS "deliveryId", delivery."classification", delivery."rejection_reason" AS "rejectionReason",
         (SELECT "id" FROM job) AS "jobId"
    FROM delivery`,
);

/** What the first delivery of a message id did, for a redelivery's answer. */
const ORIGINAL_OUTCOME = statement(
  'original-outcome',
  `
  SELECT d."id", d."classification", d."rejection_reason" AS "rejectionReason",
         (SELECT COALESCE(json_agg(json_build_object('jobId', j."id",
                                                     'kind', CASE WHEN j."follow_up_of" IS NULL THEN j."kind"::text ELSE 'follow-up' END,
                                                     'key', j."key",
                                                     'repository', j."repository", 'incidentId', i."id")
                                   ORDER BY j."created_at", j."id"), '[]'::json)
            FROM "jobs" j
            -- The job's own incident: the first; later ones were attached to it (incident groups).
            LEFT JOIN LATERAL (SELECT o."id" FROM "incidents" o WHERE o."job_id" = j."id" ORDER BY o."created_at", o."id" LIMIT 1) i ON TRUE
           WHERE j."delivery_id" = d."id") AS "jobs",
         a."id" AS "alarmId", a."incident_id" AS "incidentId", a."state" AS "alarmState",
         -- Attached: the first ALARM (ids are time-ordered, made under the group lock) of an incident that is not its
         -- job's own.
         CASE WHEN i."id" <> (SELECT o."id" FROM "incidents" o WHERE o."job_id" = j."id" ORDER BY o."created_at", o."id" LIMIT 1) AND NOT EXISTS (
                SELECT 1 FROM "alarms" e WHERE e."incident_id" = a."incident_id" AND e."state" = 'ALARM'::"AlarmState" AND e."id" < a."id")
              THEN j."id" END AS "attachedTo",
         r."follow_up_job_id" AS "followUpJobId", r."thread_job_id" AS "threadJobId"
    FROM "deliveries" d
    LEFT JOIN "alarms" a ON a."delivery_id" = d."id"
    LEFT JOIN "incidents" i ON i."id" = a."incident_id" AND a."state" = 'ALARM'::"AlarmState"
    LEFT JOIN "jobs" j ON j."id" = i."job_id"
    LEFT JOIN "follow_up_requests" r ON r."delivery_id" = d."id"
   WHERE d."sqs_message_id" = $1::text`,
);

interface OriginalRow {
  id: string;
  classification: DeliveryClassification;
  rejectionReason: string | null;
  jobs: Array<{ jobId: string; kind: SpawnKind; key: string; repository: string; incidentId: string | null }>;
  alarmId: string | null;
  incidentId: string | null;
  alarmState: string | null;
  followUpJobId: string | null;
  threadJobId: string | null;
  attachedTo: string | null;
}

/**
 * The scheduler's write path: one queue message in, one transaction out.
 * Idempotency and "one job per ticket key, ever" live in unique indexes and
 * ON CONFLICT clauses, so they hold across replicas and connections; "one
 * incident per account window" in a per-account advisory lock (see
 * INSERT_ALARM_DELIVERY_AND_LOCK and ../ingest/incident-ingest.ts).
 *
 * This is the service's hot path, so it runs parameterised SQL on a pg pool of its own rather than through Prisma:
 * an interactive Prisma transaction cost ~1.1–1.65 ms of Node CPU per message against ~0.2 ms on a raw pg client,
 * and statements are merged with CTEs so that a message takes at most five round trips (an ALARM joining a pending
 * incident), usually fewer: a ticket is BEGIN, one statement, COMMIT; a recovery or a rejection one statement.
 * Everything else (reads, tools, tests) stays on Prisma.
 */
@Injectable()
export class IngestRepository implements OnModuleDestroy {
  private readonly pool: Pool;

  // Not a PrismaClient: Prisma exposes no connection of its own to run a pg transaction on. DbModule passes the
  // DATABASE_URL PrismaService uses; tools and tests pass theirs and call close().
  constructor(connection: IngestConnection) {
    this.pool = new Pool({
      connectionString: connection.databaseUrl,
      max: connection.poolSize ?? DEFAULT_POOL_SIZE,
      // Parallel deliveries of one ticket or account wait on each other's locks; these bound a wedged database
      // the way Prisma's transaction maxWait / timeout did.
      connectionTimeoutMillis: 10_000,
      statement_timeout: 30_000,
    });
    // An idle connection the server drops (restart, failover, a test dropping its database) is discarded by the
    // pool; without a listener its 'error' event would crash the process. The next query reports real trouble.
    this.pool.on('error', () => undefined);
  }

  /**
   * A message Postgres refuses for its content (a data exception, SQLSTATE class 22) is recorded as rejected, with
   * the server's reason, instead of failing: the classifier rejects what it knows cannot be stored, and this catches
   * whatever it missed, so no message cycles to the dead-letter queue unrecorded. A rejection the server refuses too
   * fails as before.
   */
  async recordMessage(input: RecordMessageInput): Promise<RecordMessageResult> {
    try {
      return await this.recordInTransaction(input);
    } catch (error) {
      const refused = dataException(error);
      if (!refused || input.classified.classification === 'rejected') throw error;
      const reason = `Postgres refused to store this ${input.classified.classification} (SQLSTATE ${refused.code}: ${refused.message})`;
      return this.recordInTransaction({ ...input, body: escapeNul(input.body), classified: { classification: 'rejected', reason: escapeNul(reason) } });
    }
  }

  private async recordInTransaction(input: RecordMessageInput): Promise<RecordMessageResult> {
    const { classified } = input;
    const ticket = ticketOfMessage(classified);
    if (ticket !== null && input.taskMarkdown === undefined) {
      throw new Error(`recordMessage: ticket ${ticket.key} needs taskMarkdown`);
    }
    const policy = input.incidentPolicy ?? DEFAULT_INCIDENT_POLICY;
    if (classified.classification === 'alarm') {
      const problems = incidentPolicyProblems(policy);
      if (problems.length > 0) {
        throw new Error(`recordMessage: invalid incident policy: ${problems.join('; ')}`);
      }
    }
    const client = await this.pool.connect();
    try {
      const result = await this.record(client, input, policy);
      client.release();
      return result;
    } catch (error) {
      // A connection whose rollback failed may still be mid-transaction: release(error) closes it instead of
      // handing it to the next message.
      client.release((await rollback(client)) ? undefined : asError(error));
      throw error;
    }
  }

  /** Closes the pool; recordMessage fails afterwards. */
  async close(): Promise<void> {
    await this.pool.end();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async record(client: PoolClient, input: RecordMessageInput, policy: IncidentPolicy): Promise<RecordMessageResult> {
    const { classified } = input;
    const delivery = [input.sqsMessageId, iso(input.receivedAt), input.body];

    if (classified.classification === 'rejected') {
      // One statement: atomic without BEGIN / COMMIT.
      const [row] = await rows<{ id: string }>(client, INSERT_DELIVERY, [...delivery, 'rejected', classified.reason, uuidv7()]);
      return row
        ? { deliveryId: row.id, duplicate: false, classification: 'rejected', rejectionReason: classified.reason, decisions: [] }
        : this.originalOutcome(client, input.sqsMessageId);
    }

    if (classified.classification === 'update' && (classified.update.kind === 'comment' || classified.update.ticket === undefined)) {
      const recorded = await recordUpdate(client, { ...input, update: classified.update, policy: input.followUpPolicy ?? DEFAULT_FOLLOW_UP_POLICY });
      return recorded ? { ...recorded, duplicate: false } : this.originalOutcome(client, input.sqsMessageId);
    }

    const ticket = ticketOfMessage(classified);
    if (ticket !== null) {
      // A jira:issue_updated: recorded against its ticket with this reason, unless the ticket is new.
      const updateReason = classified.classification === 'update' && classified.update.kind === 'notice' ? classified.update.reason : null;
      await client.query('BEGIN');
      const [row] = await rows<{ deliveryId: string; classification: 'ticket' | 'update'; rejectionReason: string | null; jobId: string | null }>(client, RECORD_TICKET, [
        ...delivery,
        ...ticketValues(ticket),
        input.repository,
        input.taskMarkdown ?? '',
        uuidv7(),
        uuidv7(),
        uuidv7(),
        ...routeValues(input),
        input.jiraTransition ?? null,
        updateReason,
      ]);
      if (!row) {
        await client.query('ROLLBACK');
        return this.originalOutcome(client, input.sqsMessageId);
      }
      await client.query('COMMIT');
      const decisions: SpawnDecisionRecord[] =
        row.jobId === null ? [] : [{ jobId: row.jobId, kind: 'ticket', key: ticket.key, repository: input.repository }];
      return { deliveryId: row.deliveryId, duplicate: false, classification: row.classification, rejectionReason: row.rejectionReason, decisions };
    }
    if (classified.classification !== 'alarm') throw new Error(`recordMessage: unexpected ${classified.classification} message`);

    const { alarm } = classified;
    if (!isAlarmActive(alarm)) {
      const recorded = await recordRecovery(client, { ...input, alarm, policy });
      return recorded
        ? { deliveryId: recorded.deliveryId, duplicate: false, classification: 'alarm', rejectionReason: null, decisions: [], alarm: recorded.alarm }
        : this.originalOutcome(client, input.sqsMessageId);
    }

    await client.query('BEGIN');
    const [claimed] = await rows<{ id: string }>(client, INSERT_ALARM_DELIVERY_AND_LOCK, [
      ...delivery,
      incidentLockKey(alarm.account, input.incidentGroup?.name),
      uuidv7(),
    ]);
    if (!claimed) {
      await client.query('ROLLBACK');
      return this.originalOutcome(client, input.sqsMessageId);
    }
    const recorded = await recordActiveAlarm(client, {
      deliveryId: claimed.id,
      alarm,
      repository: input.repository,
      branch: input.branch ?? null,
      sparsePaths: input.sparsePaths ?? [],
      workerTaskDefinition: input.workerTaskDefinition ?? null,
      claim: input.claim ?? input.repository,
      claimLimit: input.claimLimit ?? null,
      maxTokens: input.maxTokens ?? null,
      approvalRequired: input.approvalRequired ?? false,
      repositories: input.repositories ?? null,
      group: input.incidentGroup ?? null,
      incidentLogs: input.incidentLogs ?? null,
      investigation: input.investigation ?? null,
      policy,
    });
    await client.query('COMMIT');
    return {
      deliveryId: claimed.id,
      duplicate: false,
      classification: 'alarm',
      rejectionReason: null,
      decisions: recorded.decision ? [recorded.decision] : [],
      alarm: recorded.alarm,
    };
  }

  /** Runs after the first delivery committed (ON CONFLICT waited for it), so it sees everything that delivery did. */
  private async originalOutcome(client: IngestClient, sqsMessageId: string): Promise<RecordMessageResult> {
    const [original] = await rows<OriginalRow>(client, ORIGINAL_OUTCOME, [sqsMessageId]);
    if (!original) {
      throw new Error(`recordMessage: message ${sqsMessageId} conflicted, but its first delivery is not visible`);
    }
    const decisions: SpawnDecisionRecord[] = original.jobs.map((job) => ({
      jobId: job.jobId,
      kind: job.kind,
      key: job.key,
      repository: job.repository,
      ...(job.incidentId !== null ? { incidentId: job.incidentId } : {}),
    }));
    const result: RecordMessageResult = {
      deliveryId: original.id,
      duplicate: true,
      classification: original.classification,
      rejectionReason: original.rejectionReason,
      decisions,
    };
    if (original.alarmId !== null) {
      const { alarmId, incidentId, alarmState, attachedTo } = original;
      const spawned = decisions.some((decision) => decision.incidentId !== undefined && decision.incidentId === incidentId);
      if (spawned) result.alarm = { alarmId, incidentId, outcome: 'spawned' };
      else if (attachedTo !== null) result.alarm = { alarmId, incidentId, outcome: 'attached', jobId: attachedTo };
      else result.alarm = { alarmId, incidentId, outcome: alarmState === 'ALARM' ? 'joined' : 'recorded' };
    }
    if (original.followUpJobId !== null && original.threadJobId !== null) {
      const { followUpJobId, threadJobId } = original;
      result.followUp = { outcome: decisions.some((decision) => decision.jobId === followUpJobId) ? 'spawned' : 'batched', jobId: followUpJobId, threadJobId };
    }
    return result;
  }
}

/**
 * $16 branch, $17 sparse paths, $18 worker task definition, $19 claim key, $20 claim limit, $21 token budget,
 * $22 approval of a ticket's job (a ticket's $23 is its Jira transition).
 */
function routeValues(input: RecordMessageInput): unknown[] {
  return [
    input.branch ?? null,
    input.sparsePaths ?? [],
    input.workerTaskDefinition ?? null,
    input.claim ?? input.repository,
    input.claimLimit ?? null,
    input.maxTokens ?? null,
    approvalOf(input.approvalRequired ?? false),
  ];
}

function approvalOf(required: boolean): 'required' | 'none' {
  return required ? 'required' : 'none';
}

function ticketValues(ticket: TicketFacts): unknown[] {
  return [ticket.key, ticket.externalId, ticket.projectKey, ticket.summary, ticket.description, ticket.labels, ticket.components];
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** True when the connection is known to be outside a transaction again. ROLLBACK outside one only warns. */
async function rollback(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
