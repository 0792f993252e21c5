import { createEcsClient, EcsWorkerLauncher } from '@agent-conductor/aws';
import { Module } from '@nestjs/common';
import { FollowUpSessionModule } from '../follow-up-session/follow-up-session.module';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { FollowUpModule } from '../follow-up/follow-up.module';
import { IncidentEvidenceModule } from '../incident-evidence/incident-evidence.module';
import { JiraModule } from '../jira/jira.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AttemptService } from './attempts.service';
import { EcsLauncher } from './ecs.launcher';
import { JobLaunchService } from './job-launch.service';
import { LocalProcessLauncher } from './local-process.launcher';
import { PendingSweepService } from './pending-sweep.service';
import { SpoolLauncher } from './spool.launcher';
import { TaskArchiveStore } from './task-archive.store';
import { WORKER_LAUNCHER, type WorkerLauncher } from './worker-launcher';

/** WORKER_LAUNCHER picks the implementation; the config was validated at boot, so `ecs` has its settings. */
function selectLauncher(config: ConductorConfig, local: LocalProcessLauncher): WorkerLauncher {
  if (config.workerLauncher === 'local') return local;
  if (config.workerLauncher === 'spool') return new SpoolLauncher(config);
  if (!config.ecs) throw new Error('WORKER_LAUNCHER=ecs without ECS settings');
  return new EcsLauncher(new EcsWorkerLauncher(createEcsClient({ region: config.awsRegion }), config.ecs));
}

/** Admission → registered worker → task archive → launched process or task. Repositories come from DbModule. */
@Module({
  // Global once imported; here so every setup that launches (the app, test modules) counts too.
  imports: [MetricsModule, IncidentEvidenceModule, JiraModule, FollowUpModule, FollowUpSessionModule],
  providers: [
    TaskArchiveStore,
    LocalProcessLauncher,
    { provide: WORKER_LAUNCHER, useFactory: selectLauncher, inject: [CONDUCTOR_CONFIG, LocalProcessLauncher] },
    AttemptService,
    JobLaunchService,
    PendingSweepService,
  ],
  exports: [JobLaunchService, PendingSweepService, TaskArchiveStore, WORKER_LAUNCHER, AttemptService, LocalProcessLauncher],
})
export class LaunchModule {}
