import { Module } from '@nestjs/common';
import { GitModule } from '../git/git.module';
import { PublishModule } from '../publish/publish.module';
import { ValidationModule } from '../validation/validation.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { MultiRepositoryPublisher } from './multi-repository-publisher';
import { MultiRepositoryService } from './multi-repository.service';

/** Jobs over several repositories (docs/multi-repository.md): their workspace, artifact rules and publishing. */
@Module({
  imports: [GitModule, WorkspaceModule, ValidationModule, PublishModule],
  providers: [MultiRepositoryService, MultiRepositoryPublisher],
  exports: [MultiRepositoryService, MultiRepositoryPublisher],
})
export class MultiRepositoryModule {}
