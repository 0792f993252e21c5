-- CreateEnum
CREATE TYPE "DeliveryClassification" AS ENUM ('ticket', 'alarm', 'rejected');

-- CreateEnum
CREATE TYPE "JobKind" AS ENUM ('ticket', 'incident');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('pending', 'launching', 'running', 'succeeded', 'failed');

-- CreateEnum
CREATE TYPE "WorkerState" AS ENUM ('registered', 'launched', 'connected', 'ended');

-- CreateTable
CREATE TABLE "deliveries" (
    "id" UUID NOT NULL,
    "sqs_message_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "body" TEXT NOT NULL,
    "classification" "DeliveryClassification" NOT NULL,
    "rejection_reason" TEXT,
    "ticket_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tickets" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "external_id" TEXT,
    "project_key" TEXT,
    "summary" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "labels" TEXT[],
    "components" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tickets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "kind" "JobKind" NOT NULL,
    "key" TEXT NOT NULL,
    "ticket_id" UUID,
    "delivery_id" UUID NOT NULL,
    "repository" TEXT NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "task_markdown" TEXT NOT NULL,
    "result" JSONB,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workers" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "launcher" TEXT NOT NULL,
    "launcher_handle" TEXT,
    "token_hash" TEXT NOT NULL,
    "state" "WorkerState" NOT NULL DEFAULT 'registered',
    "end_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "launched_at" TIMESTAMPTZ(3),
    "handshake_at" TIMESTAMPTZ(3),
    "last_event_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "worker_events" (
    "id" BIGSERIAL NOT NULL,
    "worker_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "detail" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "deliveries_sqs_message_id_key" ON "deliveries"("sqs_message_id");

-- CreateIndex
CREATE INDEX "deliveries_received_at_idx" ON "deliveries"("received_at");

-- CreateIndex
CREATE INDEX "deliveries_ticket_id_idx" ON "deliveries"("ticket_id");

-- CreateIndex
CREATE UNIQUE INDEX "tickets_key_key" ON "tickets"("key");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_ticket_id_key" ON "jobs"("ticket_id");

-- CreateIndex
CREATE INDEX "jobs_status_idx" ON "jobs"("status");

-- CreateIndex
CREATE INDEX "jobs_kind_key_idx" ON "jobs"("kind", "key");

-- CreateIndex
CREATE INDEX "workers_state_idx" ON "workers"("state");

-- CreateIndex
CREATE UNIQUE INDEX "workers_job_id_attempt_key" ON "workers"("job_id", "attempt");

-- CreateIndex
CREATE INDEX "worker_events_worker_id_at_idx" ON "worker_events"("worker_id", "at");

-- AddForeignKey
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_ticket_id_fkey" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_ticket_id_fkey" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workers" ADD CONSTRAINT "workers_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "worker_events" ADD CONSTRAINT "worker_events_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
