-- AlterEnum
ALTER TYPE "DeliveryClassification" ADD VALUE 'update';

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "context_reused" BOOLEAN,
ADD COLUMN     "follow_up_of" UUID,
ADD COLUMN     "pull_request" TEXT;

-- CreateTable
CREATE TABLE "follow_up_requests" (
    "id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "thread_job_id" UUID NOT NULL,
    "follow_up_job_id" UUID NOT NULL,
    "author" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "path" TEXT,
    "line" INTEGER,
    "url" TEXT,
    "commented_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "follow_up_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jobs_pull_request_idx" ON "jobs"("pull_request");

-- CreateIndex
CREATE INDEX "jobs_follow_up_of_status_idx" ON "jobs"("follow_up_of", "status");

-- CreateIndex
CREATE INDEX "follow_up_requests_thread_job_id_idx" ON "follow_up_requests"("thread_job_id");

-- CreateIndex
CREATE INDEX "follow_up_requests_follow_up_job_id_idx" ON "follow_up_requests"("follow_up_job_id");

-- CreateIndex
CREATE INDEX "follow_up_requests_delivery_id_idx" ON "follow_up_requests"("delivery_id");

-- CreateIndex
CREATE UNIQUE INDEX "follow_up_requests_source_external_id_key" ON "follow_up_requests"("source", "external_id");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_follow_up_of_fkey" FOREIGN KEY ("follow_up_of") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "follow_up_requests" ADD CONSTRAINT "follow_up_requests_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "follow_up_requests" ADD CONSTRAINT "follow_up_requests_thread_job_id_fkey" FOREIGN KEY ("thread_job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "follow_up_requests" ADD CONSTRAINT "follow_up_requests_follow_up_job_id_fkey" FOREIGN KEY ("follow_up_job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
