import { DynamicModule, Global, Module } from '@nestjs/common';
import { DB_OPTIONS, DbModuleOptions, PrismaService } from './prisma.service';
import { IngestRepository } from './repositories/ingest.repository';
import { StatusRepository } from './repositories/status.repository';

const REPOSITORIES = [IngestRepository, StatusRepository];

@Global()
@Module({})
export class DbModule {
  static forRoot(options: DbModuleOptions): DynamicModule {
    return {
      module: DbModule,
      providers: [{ provide: DB_OPTIONS, useValue: options }, PrismaService, ...REPOSITORIES],
      exports: [PrismaService, ...REPOSITORIES],
    };
  }

  /** For apps whose database URL comes from their validated config. */
  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
    useFactory: (...args: never[]) => DbModuleOptions | Promise<DbModuleOptions>;
  }): DynamicModule {
    return {
      module: DbModule,
      imports: options.imports ?? [],
      providers: [
        { provide: DB_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        PrismaService,
        ...REPOSITORIES,
      ],
      exports: [PrismaService, ...REPOSITORIES],
    };
  }
}
