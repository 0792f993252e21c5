// Generated Prisma client: the model types and enums every app shares.
export { Prisma, PrismaClient, AlarmState, DeliveryClassification, JobApproval, JobKind, JobStatus, WorkerState } from './generated/prisma/client';
export type { Alarm, Delivery, Incident, JiraReport, Job, JobAction, Ticket, Worker, WorkerEvent } from './generated/prisma/client';

export { createPrismaClient } from './prisma-client';
export { DB_OPTIONS, PrismaService } from './prisma.service';
export type { DbModuleOptions } from './prisma.service';
export { DbModule } from './db.module';

export * from './migrations/migrator';

// Repositories (one file per aggregate; add new ones below).
export * from './repositories/ingest.repository';
export { INCIDENT_TASK_ALARM_LIMIT } from './ingest/incident-ingest';
export { uuidv7 } from './ingest/uuidv7';
export * from './repositories/status.repository';
export * from './repositories/job.repository';
export * from './repositories/worker.repository';
export * from './repositories/admission.repository';
export * from './repositories/earlier-work.repository';
export * from './repositories/incident-evidence.repository';
export * from './repositories/job-action.repository';
export * from './repositories/console-query.repository';
export * from './repositories/jira-report.repository';
export * from './repositories/github-webhook-delivery.repository';
export * from './repositories/follow-up-task.repository';
export * from './roles/database-roles';
