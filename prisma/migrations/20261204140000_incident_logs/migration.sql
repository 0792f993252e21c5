-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "incident_logs" JSONB;
