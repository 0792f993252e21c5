-- The operator console's read API pages newest first on (time, id) and counts recent outcomes (docs/console.md).

-- CreateIndex
CREATE INDEX "jobs_created_at_id_idx" ON "jobs"("created_at", "id");

-- CreateIndex
CREATE INDEX "jobs_finished_at_idx" ON "jobs"("finished_at");

-- CreateIndex
CREATE INDEX "deliveries_classification_received_at_id_idx" ON "deliveries"("classification", "received_at", "id");

-- CreateIndex
CREATE INDEX "incidents_created_at_id_idx" ON "incidents"("created_at", "id");
