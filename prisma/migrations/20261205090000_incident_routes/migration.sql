-- Each incident keeps its own account's investigation role and logs query, so a job that covers several accounts'
-- incidents can read (and let its agent read) every one of them (docs/incidents.md, "Several accounts").
-- AlterTable
ALTER TABLE "incidents" ADD COLUMN     "incident_logs" JSONB,
ADD COLUMN     "investigation" JSONB;

-- Incidents recorded before this migration: the job's route was decided by its own account, so its own account's
-- incidents carry the job's columns; incidents attached from other accounts stay null (their route was not stored).
UPDATE "incidents" i
   SET "investigation" = j."investigation", "incident_logs" = j."incident_logs"
  FROM "jobs" j
 WHERE j."id" = i."job_id" AND j."key" = i."account";
