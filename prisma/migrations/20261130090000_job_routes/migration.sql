-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "branch" TEXT,
ADD COLUMN     "sparse_paths" TEXT[],
ADD COLUMN     "worker_task_definition" TEXT;
