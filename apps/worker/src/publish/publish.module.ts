import { Module } from '@nestjs/common';
import { GitModule } from '../git/git.module';
import { LocalGitPublisher } from './local-git-publisher';
import { PUBLISHER } from './publisher';

@Module({
  imports: [GitModule],
  providers: [LocalGitPublisher, { provide: PUBLISHER, useExisting: LocalGitPublisher }],
  exports: [PUBLISHER],
})
export class PublishModule {}
