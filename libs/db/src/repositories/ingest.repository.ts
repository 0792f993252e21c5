import type { ClassifiedMessage, IncidentPolicy, TicketFacts } from '@agent-conductor/scheduling-domain';
import { Injectable } from '@nestjs/common';
import { DeliveryClassification, JobKind, Prisma, PrismaClient } from '../generated/prisma/client';
import { IncidentScheduler } from './incident-scheduler';

export interface RecordMessageInput {
  sqsMessageId: string;
  receivedAt: Date;
  /** The raw queue body, stored as delivered. */
  body: string;
  classified: ClassifiedMessage;
  /** Repository a spawned job works on. */
  repository: string;
  /** TASK.md for the job; required for tickets. Incident TASK.md is rendered here, from the incident's alarms. */
  taskMarkdown?: string;
  /** How alarms chain into incidents; DEFAULT_INCIDENT_POLICY when absent. */
  incidentPolicy?: IncidentPolicy;
}

export interface SpawnDecisionRecord {
  jobId: string;
  kind: JobKind;
  /** Ticket key, or the AWS account id for incidents. */
  key: string;
  repository: string;
  /** The incident this job works on (incident decisions only). */
  incidentId?: string;
}

/**
 * What happened to an alarm delivery: `spawned` (first ALARM of a new incident; the result has its decision),
 * `joined` (an ALARM added to an existing incident), `recorded` (OK / INSUFFICIENT_DATA: stored, never spawns;
 * incidentId is the incident it was recorded against, or null).
 */
export interface AlarmOutcome {
  alarmId: string;
  incidentId: string | null;
  outcome: 'spawned' | 'joined' | 'recorded';
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
}

type Tx = Prisma.TransactionClient;

// Parallel deliveries of one ticket wait on each other's row locks; the
// defaults (2 s / 5 s) are too tight for a burst on a busy pool.
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;

function classificationOf(classified: ClassifiedMessage): DeliveryClassification {
  return classified.classification;
}

/**
 * The scheduler's write path: one queue message in, one transaction out.
 * Idempotency and "one job per ticket key, ever" live in unique indexes and
 * ON CONFLICT clauses, so they hold across replicas and connections; "one
 * incident per account window" in a per-account advisory lock (see
 * IncidentScheduler).
 */
@Injectable()
export class IngestRepository {
  private readonly incidents = new IncidentScheduler();

  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  async recordMessage(input: RecordMessageInput): Promise<RecordMessageResult> {
    const { classified } = input;
    if (classified.classification === 'ticket' && input.taskMarkdown === undefined) {
      throw new Error(`recordMessage: ticket ${classified.ticket.key} needs taskMarkdown`);
    }
    return this.prisma.$transaction(async (tx) => {
      const rejectionReason = classified.classification === 'rejected' ? classified.reason : null;
      const classification = classificationOf(classified);
      // Claims the message id; a concurrent duplicate blocks here until the
      // first transaction ends, then sees its row.
      const inserted = await tx.$queryRaw<Array<{ id: string }>>`
        INSERT INTO "deliveries" ("id", "sqs_message_id", "received_at", "body", "classification", "rejection_reason")
        VALUES (gen_random_uuid(), ${input.sqsMessageId}, ${input.receivedAt}, ${input.body},
                ${classification}::"DeliveryClassification", ${rejectionReason})
        ON CONFLICT ("sqs_message_id") DO NOTHING
        RETURNING "id"`;
      const deliveryId = inserted[0]?.id;
      if (deliveryId === undefined) {
        return this.originalOutcome(tx, input.sqsMessageId);
      }
      const decisions: SpawnDecisionRecord[] = [];
      if (classified.classification === 'ticket') {
        const decision = await this.recordTicket(tx, deliveryId, classified.ticket, input);
        if (decision) {
          decisions.push(decision);
        }
      }
      if (classified.classification === 'alarm') {
        const recorded = await this.incidents.recordAlarm(tx, {
          deliveryId,
          alarm: classified.alarm,
          repository: input.repository,
          policy: input.incidentPolicy,
        });
        if (recorded.decision) {
          decisions.push(recorded.decision);
        }
        return { deliveryId, duplicate: false, classification, rejectionReason, decisions, alarm: recorded.alarm };
      }
      return { deliveryId, duplicate: false, classification, rejectionReason, decisions };
    }, TRANSACTION_OPTIONS);
  }

  private async recordTicket(
    tx: Tx,
    deliveryId: string,
    ticket: TicketFacts,
    input: RecordMessageInput,
  ): Promise<SpawnDecisionRecord | null> {
    // Later deliveries refresh the text; the job keeps the TASK.md it was created with.
    const [row] = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO "tickets" ("id", "key", "external_id", "project_key", "summary", "description", "labels", "components", "updated_at")
      VALUES (gen_random_uuid(), ${ticket.key}, ${ticket.externalId}, ${ticket.projectKey}, ${ticket.summary},
              ${ticket.description}, ${ticket.labels}::text[], ${ticket.components}::text[], CURRENT_TIMESTAMP)
      ON CONFLICT ("key") DO UPDATE SET
        "external_id" = COALESCE(EXCLUDED."external_id", "tickets"."external_id"),
        "project_key" = COALESCE(EXCLUDED."project_key", "tickets"."project_key"),
        "summary" = EXCLUDED."summary",
        "description" = EXCLUDED."description",
        "labels" = EXCLUDED."labels",
        "components" = EXCLUDED."components",
        "updated_at" = CURRENT_TIMESTAMP
      RETURNING "id"`;
    if (!row) {
      throw new Error(`recordMessage: upsert of ticket ${ticket.key} returned no row`);
    }
    await tx.delivery.update({ where: { id: deliveryId }, data: { ticketId: row.id } });
    // jobs.ticket_id is unique: whoever inserts first owns the ticket's only job.
    const [job] = await tx.$queryRaw<Array<{ id: string }>>`
      INSERT INTO "jobs" ("id", "kind", "key", "ticket_id", "delivery_id", "repository", "status", "task_markdown", "updated_at")
      VALUES (gen_random_uuid(), 'ticket'::"JobKind", ${ticket.key}, ${row.id}::uuid, ${deliveryId}::uuid, ${input.repository},
              'pending'::"JobStatus", ${input.taskMarkdown ?? ''}, CURRENT_TIMESTAMP)
      ON CONFLICT ("ticket_id") DO NOTHING
      RETURNING "id"`;
    return job ? { jobId: job.id, kind: JobKind.ticket, key: ticket.key, repository: input.repository } : null;
  }

  private async originalOutcome(tx: Tx, sqsMessageId: string): Promise<RecordMessageResult> {
    const original = await tx.delivery.findUniqueOrThrow({
      where: { sqsMessageId },
      include: {
        jobs: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { incident: { select: { id: true } } } },
        alarm: { select: { id: true, incidentId: true, state: true } },
      },
    });
    const decisions: SpawnDecisionRecord[] = original.jobs.map((job) => ({
      jobId: job.id,
      kind: job.kind,
      key: job.key,
      repository: job.repository,
      ...(job.incident ? { incidentId: job.incident.id } : {}),
    }));
    const result: RecordMessageResult = {
      deliveryId: original.id,
      duplicate: true,
      classification: original.classification,
      rejectionReason: original.rejectionReason,
      decisions,
    };
    if (original.alarm) {
      const { id, incidentId, state } = original.alarm;
      const spawned = decisions.some((decision) => decision.incidentId !== undefined && decision.incidentId === incidentId);
      result.alarm = { alarmId: id, incidentId, outcome: spawned ? 'spawned' : state === 'ALARM' ? 'joined' : 'recorded' };
    }
    return result;
  }
}
