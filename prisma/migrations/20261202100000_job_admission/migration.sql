-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "claim_key" TEXT,
ADD COLUMN     "claim_limit" INTEGER,
ADD COLUMN     "waiting_reason" TEXT;
