-- CreateIndex
CREATE INDEX "jobs_repository_status_finished_at_idx" ON "jobs"("repository", "status", "finished_at" DESC);
