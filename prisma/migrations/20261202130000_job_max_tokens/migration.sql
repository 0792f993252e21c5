-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "max_tokens" INTEGER;
