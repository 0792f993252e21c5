import { DynamicModule, FactoryProvider, Global, Module, Provider } from '@nestjs/common';
import { PrismaClient } from './generated/prisma/client';
import { DB_OPTIONS, DbModuleOptions, PrismaService } from './prisma.service';
import { AdmissionRepository } from './repositories/admission.repository';
import { ConsoleQueryRepository } from './repositories/console-query.repository';
import { EarlierWorkRepository } from './repositories/earlier-work.repository';
import { FollowUpTaskRepository } from './repositories/follow-up-task.repository';
import { GithubWebhookDeliveryRepository } from './repositories/github-webhook-delivery.repository';
import { IncidentEvidenceRepository } from './repositories/incident-evidence.repository';
import { IngestRepository } from './repositories/ingest.repository';
import { JiraReportRepository } from './repositories/jira-report.repository';
import { JobActionRepository } from './repositories/job-action.repository';
import { JobRepository } from './repositories/job.repository';
import { StatusRepository } from './repositories/status.repository';
import { WorkerRepository } from './repositories/worker.repository';

/** Repositories that take the client as their only argument (usable outside Nest too). */
const CLIENT_REPOSITORIES: Array<new (prisma: PrismaClient) => object> = [
  StatusRepository,
  JobRepository,
  WorkerRepository,
  AdmissionRepository,
  EarlierWorkRepository,
  ConsoleQueryRepository,
  JobActionRepository,
  IncidentEvidenceRepository,
  JiraReportRepository,
  GithubWebhookDeliveryRepository,
  FollowUpTaskRepository,
];

// The ingest path runs on a pg pool of its own, from the same URL; Nest closes it on shutdown (onModuleDestroy).
const ingestRepositoryProvider: FactoryProvider = {
  provide: IngestRepository,
  useFactory: (options: DbModuleOptions) => new IngestRepository({ databaseUrl: options.databaseUrl, poolSize: options.ingestPoolSize }),
  inject: [DB_OPTIONS],
};

const clientRepositoryProviders: FactoryProvider[] = CLIENT_REPOSITORIES.map((repository) => ({
  provide: repository,
  useFactory: (prisma: PrismaService) => new repository(prisma),
  inject: [PrismaService],
}));

const prismaServiceProvider: FactoryProvider = {
  provide: PrismaService,
  useFactory: (options: DbModuleOptions) => new PrismaService(options),
  inject: [DB_OPTIONS],
};

function dbModule(optionsProvider: Provider, imports: DynamicModule['imports'] = []): DynamicModule {
  const exported = [PrismaService, IngestRepository, ...CLIENT_REPOSITORIES];
  return {
    module: DbModule,
    global: true,
    imports,
    providers: [optionsProvider, prismaServiceProvider, ingestRepositoryProvider, ...clientRepositoryProviders],
    exports: exported,
  };
}

@Global()
@Module({})
export class DbModule {
  static forRoot(options: DbModuleOptions): DynamicModule {
    return dbModule({ provide: DB_OPTIONS, useValue: options });
  }

  /** For apps whose database URL comes from their validated config. */
  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: FactoryProvider['inject'];
    useFactory: (...args: never[]) => DbModuleOptions | Promise<DbModuleOptions>;
  }): DynamicModule {
    return dbModule({ provide: DB_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }, options.imports);
  }
}
