import { Module } from '@nestjs/common';
import { EarlierWorkService } from './earlier-work.service';

/** Earlier agents' pull requests on a repository, handed to the next worker there. */
@Module({ providers: [EarlierWorkService], exports: [EarlierWorkService] })
export class EarlierWorkModule {}
