import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export const DB_OPTIONS = Symbol('DB_OPTIONS');

export interface DbModuleOptions {
  databaseUrl: string;
}

function describeTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PrismaService.name);
  private readonly target: string;

  // No parameter decorators in this library: CLIs load it through tsx, which
  // does not enable experimental decorators for files outside the root
  // tsconfig; DbModule wires constructor arguments with factories instead.
  constructor(options: DbModuleOptions) {
    super({ adapter: new PrismaPg({ connectionString: options.databaseUrl }) });
    this.target = describeTarget(options.databaseUrl);
  }

  async onModuleInit(): Promise<void> {
    // The adapter connects lazily; a query at boot turns a wrong URL or a
    // database that is down into a startup failure instead of a failed request.
    try {
      await this.$connect();
      await this.$queryRaw`SELECT 1`;
    } catch (error) {
      throw new Error(
        `Cannot reach the database at ${this.target}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    this.logger.log(`Connected to ${this.target}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
