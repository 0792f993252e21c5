import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

/**
 * The pg adapter writes JavaScript Dates as zone-less timestamps and reads
 * timestamptz back as UTC, so every session must run in UTC or stored
 * instants shift by the server's offset.
 */
export function prismaAdapter(databaseUrl: string): PrismaPg {
  return new PrismaPg({ connectionString: databaseUrl, options: '-c TimeZone=UTC' });
}

/** A client for CLIs, tools and tests; Nest apps inject {@link PrismaService} instead. */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: prismaAdapter(databaseUrl) });
}
