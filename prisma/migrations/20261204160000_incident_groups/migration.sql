-- Incidents of several accounts of one routing group may share a job (docs/scheduling.md, "Several accounts").
-- DropIndex
DROP INDEX "incidents_job_id_key";

-- CreateIndex
CREATE INDEX "incidents_job_id_idx" ON "incidents"("job_id");
