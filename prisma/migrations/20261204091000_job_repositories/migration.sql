-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "repositories" JSONB;
