import { JobRepository, WorkerRepository } from '@agent-conductor/db';
import { Module } from '@nestjs/common';
import { JobLaunchService } from './job-launch.service';
import { LocalProcessLauncher } from './local-process.launcher';
import { PendingSweepService } from './pending-sweep.service';
import { TaskArchiveStore } from './task-archive.store';
import { WORKER_LAUNCHER } from './worker-launcher';

/** Pending job → registered worker → task archive → launched process. */
@Module({
  providers: [
    JobRepository,
    WorkerRepository,
    TaskArchiveStore,
    LocalProcessLauncher,
    // WORKER_LAUNCHER=ecs will bind a different class here.
    { provide: WORKER_LAUNCHER, useExisting: LocalProcessLauncher },
    JobLaunchService,
    PendingSweepService,
  ],
  exports: [JobLaunchService, PendingSweepService, TaskArchiveStore, WorkerRepository, JobRepository, WORKER_LAUNCHER],
})
export class LaunchModule {}
