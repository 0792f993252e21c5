import { Module } from '@nestjs/common';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import { GitCli } from '../git/git-cli';
import { GitModule } from '../git/git.module';
import { GitHubPublisher } from './github-publisher';
import { LocalGitPublisher } from './local-git-publisher';
import { PUBLISHER, type Publisher } from './publisher';

@Module({
  imports: [GitModule],
  providers: [
    LocalGitPublisher,
    {
      provide: PUBLISHER,
      inject: [WORKER_CONFIG, GitCli, FileSystem, LocalGitPublisher],
      useFactory: (config: WorkerConfig, git: GitCli, fs: FileSystem, local: LocalGitPublisher): Publisher => {
        if (config.publisher !== 'github') return local;
        // parseWorkerEnv guarantees this; a hand-built config (tests) might not.
        if (!config.github) throw new Error('PUBLISHER=github needs GITHUB_TOKEN');
        return new GitHubPublisher(git, fs, { ...config.github, otherSecrets: workerSecrets(config) });
      },
    },
  ],
  exports: [PUBLISHER],
})
export class PublishModule {}
