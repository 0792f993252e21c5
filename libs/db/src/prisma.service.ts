import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaClient } from './generated/prisma/client';
import { prismaAdapter } from './prisma-client';

export const DB_OPTIONS = Symbol('DB_OPTIONS');

export interface DbModuleOptions {
  databaseUrl: string;
  /**
   * How long boot waits for the database to accept connections before failing.
   * 0 fails on the first refusal. Locally the dev stack's Postgres starts next
   * to the apps (Nx continuous tasks don't wait for readiness); in production a
   * database restarting during a deploy shouldn't crash-loop the service.
   */
  connectTimeoutMs?: number;
  /** Connections of IngestRepository's own pg pool (the scheduler's hot path), next to Prisma's. Default 10. */
  ingestPoolSize?: number;
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
  private readonly connectTimeoutMs: number;

  // No parameter decorators in this library: CLIs load it through tsx, which
  // does not enable experimental decorators for files outside the root
  // tsconfig; DbModule wires constructor arguments with factories instead.
  constructor(options: DbModuleOptions) {
    super({ adapter: prismaAdapter(options.databaseUrl) });
    this.target = describeTarget(options.databaseUrl);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 0;
  }

  async onModuleInit(): Promise<void> {
    // The adapter connects lazily; a query at boot turns a wrong URL or a
    // database that is down into a startup failure instead of a failed request.
    const deadline = Date.now() + this.connectTimeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.$connect();
        await this.$queryRaw`SELECT 1`;
        break;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (Date.now() >= deadline) {
          throw new Error(`Cannot reach the database at ${this.target}: ${reason}`, { cause: error });
        }
        if (attempt === 1) {
          this.logger.warn(`Waiting up to ${this.connectTimeoutMs} ms for the database at ${this.target}: ${reason}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    this.logger.log(`Connected to ${this.target}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
