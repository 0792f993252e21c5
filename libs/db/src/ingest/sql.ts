import type { PoolClient, QueryResultRow } from 'pg';

/** The connection an ingest transaction runs on: one checked-out pg client, so every statement shares the transaction. */
export type IngestClient = Pick<PoolClient, 'query'>;

export async function rows<R extends QueryResultRow>(client: IngestClient, text: string, values: unknown[]): Promise<R[]> {
  return (await client.query<R>(text, values)).rows;
}

/*
 * Timestamps go to Postgres as ISO-8601 text with an explicit ::timestamptz cast, so the session's time zone never
 * takes part in how an instant is read.
 */
export const iso = (date: Date): string => date.toISOString();
