-- CreateEnum
CREATE TYPE "AlarmState" AS ENUM ('ALARM', 'OK', 'INSUFFICIENT_DATA');

-- CreateTable
CREATE TABLE "alarms" (
    "id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "region" TEXT,
    "alarm_name" TEXT NOT NULL,
    "alarm_arn" TEXT,
    "state" "AlarmState" NOT NULL,
    "reason" TEXT,
    "event_time" TIMESTAMPTZ(3) NOT NULL,
    "incident_id" UUID,
    "metrics" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alarms_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incidents" (
    "id" UUID NOT NULL,
    "account" TEXT NOT NULL,
    "first_event_at" TIMESTAMPTZ(3) NOT NULL,
    "last_event_at" TIMESTAMPTZ(3) NOT NULL,
    "alarm_count" INTEGER NOT NULL,
    "job_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "incidents_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "alarms_delivery_id_key" ON "alarms"("delivery_id");

-- CreateIndex
CREATE INDEX "alarms_incident_id_event_time_idx" ON "alarms"("incident_id", "event_time");

-- CreateIndex
CREATE UNIQUE INDEX "incidents_job_id_key" ON "incidents"("job_id");

-- CreateIndex
CREATE INDEX "incidents_account_last_event_at_idx" ON "incidents"("account", "last_event_at");

-- AddForeignKey
ALTER TABLE "alarms" ADD CONSTRAINT "alarms_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alarms" ADD CONSTRAINT "alarms_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
