-- AlterEnum
-- Not used in this migration: a value added by ALTER TYPE cannot be used in the transaction that adds it.
ALTER TYPE "JobStatus" ADD VALUE 'cancelled';

-- CreateEnum
CREATE TYPE "JobApproval" AS ENUM ('none', 'required', 'approved', 'rejected');

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "approval" "JobApproval" NOT NULL DEFAULT 'none',
ADD COLUMN     "cancel_requested_at" TIMESTAMPTZ(3),
ADD COLUMN     "rerun_of" UUID;

-- CreateTable
CREATE TABLE "job_actions" (
    "id" BIGSERIAL NOT NULL,
    "job_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "detail" JSONB,

    CONSTRAINT "job_actions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jobs_rerun_of_idx" ON "jobs"("rerun_of");

-- CreateIndex
CREATE INDEX "job_actions_job_id_at_idx" ON "job_actions"("job_id", "at");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_rerun_of_fkey" FOREIGN KEY ("rerun_of") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_actions" ADD CONSTRAINT "job_actions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
