import { Module } from '@nestjs/common';
import { GitModule } from '../git/git.module';
import { RepositoryService } from './repository.service';

@Module({ imports: [GitModule], providers: [RepositoryService], exports: [RepositoryService] })
export class WorkspaceModule {}
