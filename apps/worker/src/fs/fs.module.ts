import { Global, Module } from '@nestjs/common';
import { FileSystem } from './file-system';

@Global()
@Module({ providers: [FileSystem], exports: [FileSystem] })
export class FsModule {}
