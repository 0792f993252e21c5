import type { PoolClient, QueryResultRow } from 'pg';

/** The connection an ingest transaction runs on: one checked-out pg client, so every statement shares the transaction. */
export type IngestClient = Pick<PoolClient, 'query'>;

/**
 * A statement the ingest path runs for every message. Named, so each connection parses and plans it once (a prepared
 * statement) instead of on every execution: for the multi-CTE statements that is most of the server's work.
 */
export interface Statement {
  name: string;
  text: string;
}

export const statement = (name: string, text: string): Statement => ({ name: `ingest:${name}`, text });

export async function rows<R extends QueryResultRow>(client: IngestClient, { name, text }: Statement, values: unknown[]): Promise<R[]> {
  return (await client.query<R>({ name, text, values })).rows;
}

/*
 * Timestamps go to Postgres as ISO-8601 text with an explicit ::timestamptz cast, so the session's time zone never
 * takes part in how an instant is read.
 */
export const iso = (date: Date): string => date.toISOString();
