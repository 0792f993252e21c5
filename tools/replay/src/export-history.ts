import { Client } from 'pg';
import { formatJobEndLine, formatScenarioLine } from './scenario';

export interface ExportOptions {
  databaseUrl: string;
  since?: Date;
  until?: Date;
  write: (line: string) => void;
}

const BATCH = 1000;

interface HistoryRow {
  kind: 'delivery' | 'job-end';
  id: string;
  at: string;
  sqs_message_id: string | null;
  body: string | null;
  key: string | null;
  status: string | null;
  branch: string | null;
  pull_request: string | null;
}

/**
 * Streams `deliveries` in arrival order as scenario lines, with the end of every job that succeeded or failed placed
 * among them at its finish time (a `jobEnded` line): a review comment replayed after the end of the job that opened
 * its pull request finds that pull request again, so follow-ups replay to the same decisions. Bodies are copied byte
 * for byte: replay must see exactly what the queue delivered. Keyset pagination on (time, id) keeps memory flat,
 * however big the history.
 */
export async function exportHistory(options: ExportOptions): Promise<number> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    let count = 0;
    let after: { at: string; id: string } | null = null;
    for (;;) {
      // Times are compared as text in UTC ISO form so no precision is lost through JavaScript dates.
      const page: { rows: HistoryRow[] } = await client.query(
        `SELECT kind, id, sqs_message_id, body, key, status, branch, pull_request,
                to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
           FROM (SELECT 'delivery' AS kind, id::text AS id, received_at AS at, sqs_message_id, body,
                        NULL::text AS key, NULL::text AS status, NULL::text AS branch, NULL::text AS pull_request
                   FROM deliveries
                 UNION ALL
                 SELECT 'job-end', id::text, finished_at, NULL, NULL, key, status::text, result->>'branch', pull_request
                   FROM jobs
                  WHERE finished_at IS NOT NULL AND status IN ('succeeded', 'failed')) AS history
          WHERE ($1::timestamptz IS NULL OR at >= $1)
            AND ($2::timestamptz IS NULL OR at < $2)
            AND ($3::timestamptz IS NULL OR (at, id) > ($3::timestamptz, $4::text))
          ORDER BY at, id
          LIMIT ${BATCH}`,
        [options.since ?? null, options.until ?? null, after?.at ?? null, after?.id ?? null],
      );
      for (const row of page.rows) {
        options.write(
          row.kind === 'delivery'
            ? formatScenarioLine({ messageId: row.sqs_message_id ?? '', receivedAt: row.at, body: row.body ?? '' })
            : formatJobEndLine(
                { key: row.key ?? '', status: row.status === 'succeeded' ? 'succeeded' : 'failed', branch: row.branch ?? '', ...(row.pull_request !== null ? { pullRequest: row.pull_request } : {}) },
                row.at,
              ),
        );
        count += 1;
      }
      const last = page.rows[page.rows.length - 1];
      if (page.rows.length < BATCH || last === undefined) return count;
      after = { at: last.at, id: last.id };
    }
  } finally {
    await client.end();
  }
}
