import { Module } from '@nestjs/common';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { GitModule } from '../git/git.module';
import { EarlierWorkService } from './earlier-work.service';
import { GitHubUnmergedFilter } from './github-unmerged-filter';
import { LocalUnmergedFilter } from './local-unmerged-filter';
import { UNMERGED_FILTER, type UnmergedFilter } from './unmerged-filter';

@Module({
  imports: [GitModule],
  providers: [
    EarlierWorkService,
    LocalUnmergedFilter,
    {
      provide: UNMERGED_FILTER,
      inject: [WORKER_CONFIG, LocalUnmergedFilter],
      // Pull requests live where the publisher opens them: GitHub's answer for PUBLISHER=github, git's otherwise.
      useFactory: (config: WorkerConfig, local: LocalUnmergedFilter): UnmergedFilter => (config.publisher === 'github' && config.github ? new GitHubUnmergedFilter(config.github) : local),
    },
  ],
  exports: [EarlierWorkService],
})
export class EarlierWorkModule {}
