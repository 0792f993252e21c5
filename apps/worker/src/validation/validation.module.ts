import { Module } from '@nestjs/common';
import { GitModule } from '../git/git.module';
import { ArtifactValidator } from './artifact-validator.service';

@Module({ imports: [GitModule], providers: [ArtifactValidator], exports: [ArtifactValidator] })
export class ValidationModule {}
