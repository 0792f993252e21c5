import {
  decideFollowUp,
  FollowUpDecision,
  followUpPlaceholderTask,
  FollowUpPolicy,
  listedOnThread,
  screenUpdate,
  ThreadJob,
  UpdateComment,
  UpdateFacts,
} from '@agent-conductor/scheduling-domain';
import type { FollowUpOutcome, SpawnDecisionRecord } from '../repositories/ingest.repository';
import { IngestClient, iso, rows, statement } from './sql';
import { uuidv7 } from './uuidv7';

/*
 * Follow-ups in Postgres (docs/follow-ups.md). A comment that passes the message-only screen is decided inside one
 * transaction: store the delivery, lock the thread's first job row (every comment of one thread queues there, from
 * any replica), look up the thread and whether this comment was requested before, decide, then batch the request
 * into the thread's pending follow-up or create one.
 */

/*
 * Jira deliveries point at their ticket, when the scheduler knows it. A comment the message alone refuses ($8: listed
 * on its thread) points at its thread's first job, found as the locking statements below find it but without the
 * lock: nothing is decided from the link, so a job that records its pull request at this very moment may only miss
 * this one comment on its page.
 */
const INSERT_UPDATE_DELIVERY = statement(
  'insert-update-delivery',
  `
  INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification", "rejection_reason", "ticket_id", "thread_job_id")
  VALUES ($6::uuid, $1::text, $2::timestamptz, $3::text, $4::"DeliveryClassification", $5::text,
          (SELECT "id" FROM "tickets" WHERE "key" = $7::text),
          CASE WHEN $8::boolean THEN COALESCE(
            (SELECT COALESCE(p."follow_up_of", p."id") FROM "jobs" p
              WHERE p."pull_request" = $9::text ORDER BY p."created_at", p."id" LIMIT 1),
            (SELECT j."id" FROM "jobs" j JOIN "tickets" t ON t."id" = j."ticket_id" WHERE t."key" = $7::text))
          END)
  ON CONFLICT ("sqs_message_id") DO NOTHING
  RETURNING "id"`,
);

const SET_DELIVERY_OUTCOME = statement(
  'set-update-delivery-outcome',
  `UPDATE "deliveries" SET "classification" = $2::"DeliveryClassification", "rejection_reason" = $3::text, "thread_job_id" = $4::uuid
    WHERE "id" = $1::uuid`,
);

/*
 * The thread of a pull request: the earliest job that has it, or the job that one follows up (a follow-up that pushed
 * to the pull request has it too). Locked, so comments of one thread are decided one at a time.
 */
const LOCK_PULL_REQUEST_THREAD = statement(
  'lock-pull-request-thread',
  `
  SELECT j."id", j."status"::text AS "status", j."result"->>'branch' AS "resultBranch"
    FROM "jobs" j
   WHERE j."id" = (SELECT COALESCE(p."follow_up_of", p."id") FROM "jobs" p
                    WHERE p."pull_request" = $1::text ORDER BY p."created_at", p."id" LIMIT 1)
     FOR UPDATE`,
);

/** The thread of a ticket: the ticket's one job. */
const LOCK_TICKET_THREAD = statement(
  'lock-ticket-thread',
  `
  SELECT j."id", j."status"::text AS "status", j."result"->>'branch' AS "resultBranch"
    FROM "jobs" j JOIN "tickets" t ON t."id" = j."ticket_id"
   WHERE t."key" = $1::text
     FOR UPDATE OF j`,
);

const EXISTING_REQUEST = statement(
  'existing-follow-up-request',
  `SELECT "follow_up_job_id" AS "jobId" FROM "follow_up_requests" WHERE "source" = $1::text AND "external_id" = $2::text`,
);

/*
 * The thread's follow-up that has not started yet: comments arriving meanwhile join it. Locked, so admission's claim
 * (UPDATE … WHERE status = 'pending') waits until the request is committed and the launch renders it; a claim that
 * came first makes the row fail the re-checked condition here, and the comment starts the next follow-up.
 */
const PENDING_FOLLOW_UP = statement(
  'pending-follow-up',
  `
  SELECT "id", "kind"::text AS "kind", "key", "repository" FROM "jobs"
   WHERE "follow_up_of" = $1::uuid AND "status" = 'pending'
   ORDER BY "created_at", "id" LIMIT 1
     FOR UPDATE`,
);

/*
 * A follow-up job continues its first job: same kind, key, repository, branch, sparse paths, repositories, worker
 * image, claim and budget. No ticket_id (one job per ticket is the ticket's first), no approval (the first job had
 * it), no Jira transition (the ticket moved when the first job succeeded).
 */
const INSERT_FOLLOW_UP_JOB = statement(
  'insert-follow-up-job',
  `
  INSERT INTO "jobs" ("id", "kind", "key", "delivery_id", "repository", "branch", "sparse_paths", "repositories",
                      "worker_task_definition", "claim_key", "claim_limit", "max_tokens", "approval", "status",
                      "task_markdown", "follow_up_of", "updated_at")
  SELECT $1::uuid, f."kind", f."key", $2::uuid, f."repository", f."branch", f."sparse_paths", f."repositories",
         f."worker_task_definition", COALESCE(f."claim_key", f."repository"), f."claim_limit", f."max_tokens",
         'none'::"JobApproval", 'pending'::"JobStatus", $3::text, f."id", CURRENT_TIMESTAMP
    FROM "jobs" f WHERE f."id" = $4::uuid
  RETURNING "id", "kind"::text AS "kind", "key", "repository"`,
);

const INSERT_REQUEST = statement(
  'insert-follow-up-request',
  `
  INSERT INTO "follow_up_requests" ("id", "delivery_id", "source", "external_id", "thread_job_id", "follow_up_job_id",
                                    "author", "body", "path", "line", "url", "commented_at")
  VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::uuid, $6::uuid, $7::text, $8::text, $9::text, $10::int4, $11::text,
          $12::timestamptz)`,
);

export interface IngestUpdateInput {
  sqsMessageId: string;
  receivedAt: Date;
  body: string;
  update: UpdateFacts;
  policy: FollowUpPolicy;
}

export interface IngestUpdateResult {
  deliveryId: string;
  classification: 'update' | 'rejected';
  rejectionReason: string | null;
  decisions: SpawnDecisionRecord[];
  followUp?: FollowUpOutcome;
}

interface ThreadRow {
  id: string;
  status: ThreadJob['status'];
  resultBranch: string | null;
}

interface JobRow {
  id: string;
  kind: string;
  key: string;
  repository: string;
}

/**
 * Records an update message and acts on it. null: the message id was recorded before (the caller answers with the
 * first delivery's outcome); the transaction is rolled back then. The caller runs it on a client outside a transaction.
 */
export async function recordUpdate(client: IngestClient, input: IngestUpdateInput): Promise<IngestUpdateResult | null> {
  const { update, policy } = input;
  const delivery = [input.sqsMessageId, iso(input.receivedAt), input.body];
  const thread = update.kind === 'comment' ? update.comment.thread : update.thread;
  const ticketKey = thread?.kind === 'ticket' ? thread.key : null;
  const pullRequest = thread?.kind === 'pull-request' ? thread.url : null;

  const screened = screenUpdate(update, policy);
  if (screened !== null || update.kind === 'notice') {
    const outcome = storedOutcome(screened ?? { decision: 'record', reason: 'notice' });
    // One statement: atomic without BEGIN / COMMIT, the thread's link included.
    const [row] = await rows<{ id: string }>(client, INSERT_UPDATE_DELIVERY, [
      ...delivery,
      outcome.classification,
      outcome.rejectionReason,
      uuidv7(),
      ticketKey,
      listedOnThread(update, policy),
      pullRequest,
    ]);
    return row ? { deliveryId: row.id, ...outcome, decisions: [] } : null;
  }

  const { comment } = update;
  await client.query('BEGIN');
  // Linked below, from the locked lookup, once the decision is known.
  const [stored] = await rows<{ id: string }>(client, INSERT_UPDATE_DELIVERY, [...delivery, 'update', null, uuidv7(), ticketKey, false, pullRequest]);
  if (!stored) {
    await client.query('ROLLBACK');
    return null;
  }
  const deliveryId = stored.id;
  const [first] =
    comment.thread.kind === 'pull-request'
      ? await rows<ThreadRow>(client, LOCK_PULL_REQUEST_THREAD, [comment.thread.url])
      : await rows<ThreadRow>(client, LOCK_TICKET_THREAD, [comment.thread.key]);
  const [existing] = await rows<{ jobId: string }>(client, EXISTING_REQUEST, [comment.source, comment.externalId]);
  const firstJob = first ? { id: first.id, status: first.status, resultBranch: first.resultBranch === '' ? null : first.resultBranch } : null;
  const decision = decideFollowUp(update, policy, { firstJob, alreadyRequestedBy: existing?.jobId ?? null });
  if (decision.decision !== 'follow-up' || firstJob === null) {
    const outcome = storedOutcome(decision);
    // It passed the screen, so it is a person's comment: listed on the thread when there is one.
    await rows(client, SET_DELIVERY_OUTCOME, [deliveryId, outcome.classification, outcome.rejectionReason, firstJob?.id ?? null]);
    await client.query('COMMIT');
    return { deliveryId, ...outcome, decisions: [] };
  }

  const [pending] = await rows<JobRow>(client, PENDING_FOLLOW_UP, [firstJob.id]);
  const job = pending ?? (await rows<JobRow>(client, INSERT_FOLLOW_UP_JOB, [uuidv7(), deliveryId, followUpPlaceholderTask(comment.thread), firstJob.id]))[0];
  if (!job) throw new Error(`recordUpdate: the thread's first job ${firstJob.id} vanished under its lock`);
  await rows(client, INSERT_REQUEST, [uuidv7(), deliveryId, ...requestValues(comment), firstJob.id, job.id, ...commentValues(comment)]);
  await client.query('COMMIT');
  return {
    deliveryId,
    classification: 'update',
    rejectionReason: null,
    decisions: pending ? [] : [{ jobId: job.id, kind: 'follow-up', key: job.key, repository: job.repository }],
    followUp: { outcome: pending ? 'batched' : 'spawned', jobId: job.id, threadJobId: firstJob.id },
  };
}

function storedOutcome(decision: FollowUpDecision): { classification: 'update' | 'rejected'; rejectionReason: string | null } {
  if (decision.decision === 'reject') return { classification: 'rejected', rejectionReason: decision.reason };
  if (decision.decision === 'record') return { classification: 'update', rejectionReason: decision.reason };
  return { classification: 'update', rejectionReason: null };
}

function requestValues(comment: UpdateComment): unknown[] {
  return [comment.source, comment.externalId];
}

function commentValues(comment: UpdateComment): unknown[] {
  return [comment.author, comment.body, comment.path, comment.line, comment.url, iso(comment.commentedAt)];
}
