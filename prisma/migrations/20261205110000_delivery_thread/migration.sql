-- A comment on a follow-up thread that started nothing points at the thread's first job, so the console lists it on
-- the thread's job pages with its reason (docs/follow-ups.md). Deliveries stored before this migration stay unlinked.
-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "thread_job_id" UUID;

-- CreateIndex
CREATE INDEX "deliveries_thread_job_id_received_at_id_idx" ON "deliveries"("thread_job_id", "received_at", "id");

-- AddForeignKey
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_thread_job_id_fkey" FOREIGN KEY ("thread_job_id") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
