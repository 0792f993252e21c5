-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "jira_transition" TEXT;

-- CreateTable
CREATE TABLE "jira_reports" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "issue_key" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "transition" TEXT,
    "tries" INTEGER NOT NULL DEFAULT 0,
    "next_try_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "comment_id" TEXT,
    "posted_at" TIMESTAMPTZ(3),
    "gave_up_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "jira_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jira_reports_next_try_at_idx" ON "jira_reports"("next_try_at");

-- CreateIndex
CREATE UNIQUE INDEX "jira_reports_job_id_attempt_key" ON "jira_reports"("job_id", "attempt");

-- AddForeignKey
ALTER TABLE "jira_reports" ADD CONSTRAINT "jira_reports_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
