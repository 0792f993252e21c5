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

/**
 * The SQLSTATE and message of a Postgres data exception (class 22: a value the server cannot take, such as NUL in
 * text, an out-of-range timestamp, a malformed array), or null for any other error. Those depend on the message's
 * content alone, so retrying it can never succeed.
 */
export function dataException(error: unknown): { code: string; message: string } | null {
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return null;
  if (!/^22[0-9A-Z]{3}$/.test(error.code)) return null;
  const message = 'message' in error && typeof error.message === 'string' ? error.message : 'no message';
  return { code: error.code, message };
}
