-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "investigation" JSONB;
