import { Client } from 'pg';
import { formatScenarioLine } from './scenario';

export interface ExportOptions {
  databaseUrl: string;
  since?: Date;
  until?: Date;
  write: (line: string) => void;
}

const BATCH = 1000;

/**
 * Streams `deliveries` in arrival order as scenario lines. Bodies are copied
 * byte for byte: replay must see exactly what the queue delivered. Keyset
 * pagination on (received_at, id) keeps memory flat and each page an index range
 * scan, however big the history.
 */
export async function exportHistory(options: ExportOptions): Promise<number> {
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    let count = 0;
    let after: { receivedAt: string; id: string } | null = null;
    for (;;) {
      // received_at is compared as text in UTC ISO form so no precision is lost through JavaScript dates.
      const page: { rows: Array<{ id: string; sqs_message_id: string; received_at: string; body: string }> } = await client.query(
        `SELECT id::text AS id, sqs_message_id, body,
                to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS received_at
           FROM deliveries
          WHERE ($1::timestamptz IS NULL OR received_at >= $1)
            AND ($2::timestamptz IS NULL OR received_at < $2)
            AND ($3::timestamptz IS NULL OR (received_at, id) > ($3::timestamptz, $4::uuid))
          ORDER BY received_at, id
          LIMIT ${BATCH}`,
        [options.since ?? null, options.until ?? null, after?.receivedAt ?? null, after?.id ?? null],
      );
      for (const row of page.rows) {
        options.write(formatScenarioLine({ messageId: row.sqs_message_id, receivedAt: row.received_at, body: row.body }));
        count += 1;
      }
      const last = page.rows[page.rows.length - 1];
      if (page.rows.length < BATCH || last === undefined) return count;
      after = { receivedAt: last.received_at, id: last.id };
    }
  } finally {
    await client.end();
  }
}
