-- CreateIndex
CREATE INDEX "jobs_delivery_id_idx" ON "jobs"("delivery_id");
