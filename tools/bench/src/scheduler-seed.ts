import { Client } from 'pg';

/** Shape of the seeded history; the bench's messages use the same accounts and continue where it ends. */
export interface HistoryShape {
  deliveries: number;
  tickets: number;
  alarms: number;
  incidents: number;
  accounts: number;
  /** The history's "now": the last incidents end shortly before it. */
  now: Date;
  spanDays: number;
}

export const ALARMS_PER_INCIDENT = 8;
export const BENCH_ACCOUNTS = 1000;

export function accountId(index: number): string {
  return String(100_000_000_000 + (index % BENCH_ACCOUNTS));
}

export function historyShape(deliveries: number, now: Date): HistoryShape {
  const tickets = Math.floor(deliveries * 0.2);
  const alarms = deliveries - tickets;
  return {
    deliveries,
    tickets,
    alarms,
    incidents: Math.ceil(alarms / ALARMS_PER_INCIDENT),
    accounts: BENCH_ACCOUNTS,
    now,
    spanDays: 180,
  };
}

/**
 * A UUIDv7 in SQL, as the ingest path (libs/db uuidv7) gives every row it creates: the 48-bit millisecond `ts`, version
 * 7, then md5(`seed`) bits instead of random ones, so each id is computable again where another table references it.
 */
export function uuidv7Sql(ts: string, seed: string): string {
  const hash = `md5(${seed})`;
  return `(lpad(to_hex(floor(extract(epoch FROM ${ts}) * 1000)::bigint), 12, '0') || '7' || substr(${hash}, 1, 3)
           || substr('89ab', 1 + get_byte(decode(substr(${hash}, 4, 2), 'hex'), 0) % 4, 1) || substr(${hash}, 6, 15))::uuid`;
}

/**
 * Writes the history with a handful of set-based statements (generate_series),
 * so a million deliveries take about a minute rather than hours of round trips.
 * Ids are time-ordered, as the ingest path writes them (UUIDv7 of the row's creation time; uuidv7Sql), and
 * derived from the row number so that the tables can reference each other without
 * lookups. Each incident: 7 ALARMs ten minutes apart and an OK, one account per
 * incident in turn, incidents spread evenly over `spanDays`; 20% of deliveries
 * are tickets, each with its job. Old jobs are finished.
 */
export async function seedHistory(databaseUrl: string, shape: HistoryShape, log: (line: string) => void): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const step = async (what: string, sql: string): Promise<void> => {
    const started = performance.now();
    const result = await client.query(sql);
    log(`  ${what}: ${result.rowCount ?? 0} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  const { tickets: T, alarms: L, incidents: I, accounts: A, spanDays } = shape;
  const now = `'${shape.now.toISOString()}'::timestamptz`;
  const span = `interval '${spanDays} days'`;
  const ticketTime = (g: string): string => `${now} - ${span} + (${span} * (${g}::float8 / ${Math.max(T, 1)}))`;
  const incidentStart = (i: string): string => `${now} - ${span} + (${span} * ((${i} - 1)::float8 / ${Math.max(I, 1)}))`;
  const account = (i: string): string => `(100000000000 + ((${i} - 1) % ${A}))::text`;
  const ticketRowId = (what: string, g: string): string => uuidv7Sql(ticketTime(g), `'${what}' || ${g}`);
  const incidentRowId = (what: string, i: string): string => uuidv7Sql(incidentStart(i), `'${what}' || ${i}`);
  try {
    await client.query('BEGIN');
    // Foreign keys hold by construction; skipping their per-row triggers halves the seeding time. Needs superuser
    // (the embedded cluster is); elsewhere the checks simply run.
    await client.query('SAVEPOINT replica');
    try {
      await client.query(`SET LOCAL session_replication_role = replica`);
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT replica');
    }
    if (T > 0) {
      await step(
        'tickets',
        `INSERT INTO tickets (id, key, external_id, project_key, summary, description, labels, components, created_at, updated_at)
         SELECT ${ticketRowId('ticket', 'g')}, 'HIST-' || g, (10000 + g)::text, 'HIST', 'Historical ticket ' || g,
                'Seeded by bench:scheduler: users report a blank page after the session expires.',
                ARRAY['seed'], ARRAY['Authentication'], ${ticketTime('g')}, ${ticketTime('g')}
           FROM generate_series(1, ${T}) g`,
      );
      await step(
        'ticket deliveries',
        `INSERT INTO deliveries (id, sqs_message_id, received_at, body, classification, ticket_id, created_at)
         SELECT ${ticketRowId('tdel', 'g')}, 'hist-t-' || g, ${ticketTime('g')},
                json_build_object('id', (10000 + g)::text, 'key', 'HIST-' || g,
                  'fields', json_build_object('summary', 'Historical ticket ' || g,
                    'description', json_build_object('type', 'doc', 'version', 1, 'content', json_build_array(
                      json_build_object('type', 'paragraph', 'content', json_build_array(
                        json_build_object('type', 'text', 'text', 'Users report a blank page after the session expires.'))))),
                    'issuetype', json_build_object('name', 'Bug'), 'project', json_build_object('key', 'HIST'),
                    'labels', json_build_array('seed')))::text,
                'ticket', ${ticketRowId('ticket', 'g')}, ${ticketTime('g')}
           FROM generate_series(1, ${T}) g`,
      );
      await step(
        'ticket jobs',
        `INSERT INTO jobs (id, kind, key, ticket_id, delivery_id, repository, status, attempts, task_markdown, created_at, updated_at, finished_at)
         SELECT ${ticketRowId('tjob', 'g')}, 'ticket', 'HIST-' || g, ${ticketRowId('ticket', 'g')}, ${ticketRowId('tdel', 'g')},
                'https://github.com/example/app.git', 'succeeded', 1, '# HIST-' || g || E'\n\nHistorical ticket.',
                ${ticketTime('g')}, ${ticketTime('g')}, ${ticketTime('g')} + interval '20 minutes'
           FROM generate_series(1, ${T}) g`,
      );
    }
    if (L > 0) {
      // g = alarm number; its incident i = (g - 1) / 8 + 1 and its position k = (g - 1) % 8 (k = 7 is the OK).
      const i = `(((g - 1) / ${ALARMS_PER_INCIDENT}) + 1)`;
      const k = `((g - 1) % ${ALARMS_PER_INCIDENT})`;
      const eventTime = `(${incidentStart(i)} + (${k} * interval '10 minutes'))`;
      const state = `(CASE WHEN ${k} = ${ALARMS_PER_INCIDENT - 1} THEN 'OK' ELSE 'ALARM' END)`;
      const alarmName = `('svc-' || (${i} % 17) || '-high-cpu')`;
      // Alarm rows and their deliveries are created when the delivery arrives, 5 s after the alarm's time.
      const alarmDeliveryId = (g: string, time: string): string => uuidv7Sql(`(${time} + interval '5 seconds')`, `'adel' || ${g}`);
      await step(
        'alarm deliveries',
        `INSERT INTO deliveries (id, sqs_message_id, received_at, body, classification, created_at)
         SELECT ${alarmDeliveryId('g', eventTime)}, 'hist-a-' || g, ${eventTime} + interval '5 seconds',
                json_build_object('version', '0', 'id', md5('event' || g)::uuid, 'detail-type', 'CloudWatch Alarm State Change',
                  'source', 'aws.cloudwatch', 'account', ${account(i)},
                  'time', to_char(${eventTime} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'region', 'us-east-1',
                  'resources', json_build_array('arn:aws:cloudwatch:us-east-1:' || ${account(i)} || ':alarm:' || ${alarmName}),
                  'detail', json_build_object('alarmName', ${alarmName},
                    'state', json_build_object('value', ${state}, 'reason', 'Threshold Crossed: 1 datapoint [97.5] was greater than the threshold (80.0).'),
                    'previousState', json_build_object('value', CASE WHEN ${state} = 'OK' THEN 'ALARM' ELSE 'OK' END),
                    'configuration', json_build_object('metrics', json_build_array(json_build_object('id', 'm1',
                      'metricStat', json_build_object('metric', json_build_object('namespace', 'AWS/EC2', 'name', 'CPUUtilization',
                        'dimensions', json_build_object('InstanceId', 'i-' || substr(md5('instance' || ${i}), 1, 17))),
                        'period', 60, 'stat', 'Average'))))))::text,
                'alarm', ${eventTime} + interval '5 seconds'
           FROM generate_series(1, ${L}) g`,
      );
      await step(
        'incident jobs',
        `INSERT INTO jobs (id, kind, key, delivery_id, repository, status, attempts, task_markdown, created_at, updated_at, finished_at)
         SELECT ${incidentRowId('ijob', 'i')}, 'incident', ${account('i')},
                ${alarmDeliveryId(`((i - 1) * ${ALARMS_PER_INCIDENT} + 1)`, incidentStart('i'))},
                'https://github.com/example/app.git', 'succeeded', 1, '# Incident in account ' || ${account('i')},
                ${incidentStart('i')}, ${incidentStart('i')}, ${incidentStart('i')} + interval '40 minutes'
           FROM generate_series(1, ${I}) i`,
      );
      await step(
        'incidents',
        `INSERT INTO incidents (id, account, first_event_at, last_event_at, alarm_count, job_id, created_at, updated_at)
         SELECT ${incidentRowId('inc', 'i')}, ${account('i')}, ${incidentStart('i')},
                ${incidentStart('i')} + (LEAST(${ALARMS_PER_INCIDENT - 2}, ${L} - (i - 1) * ${ALARMS_PER_INCIDENT} - 1) * interval '10 minutes'),
                LEAST(${ALARMS_PER_INCIDENT - 1}, ${L} - (i - 1) * ${ALARMS_PER_INCIDENT}), ${incidentRowId('ijob', 'i')},
                ${incidentStart('i')}, ${incidentStart('i')}
           FROM generate_series(1, ${I}) i`,
      );
      await step(
        'alarms',
        `INSERT INTO alarms (id, delivery_id, account, region, alarm_name, alarm_arn, state, reason, event_time, incident_id, metrics, created_at)
         SELECT ${uuidv7Sql(`(${eventTime} + interval '5 seconds')`, `'alarm' || g`)}, ${alarmDeliveryId('g', eventTime)}, ${account(i)}, 'us-east-1', ${alarmName},
                'arn:aws:cloudwatch:us-east-1:' || ${account(i)} || ':alarm:' || ${alarmName}, ${state}::"AlarmState",
                'Threshold Crossed: 1 datapoint [97.5] was greater than the threshold (80.0).', ${eventTime}, ${incidentRowId('inc', i)},
                jsonb_build_array(jsonb_build_object('namespace', 'AWS/EC2', 'name', 'CPUUtilization',
                  'dimensions', jsonb_build_object('InstanceId', 'i-' || substr(md5('instance' || ${i}), 1, 17)))),
                ${eventTime} + interval '5 seconds'
           FROM generate_series(1, ${L}) g`,
      );
    }
    await client.query('COMMIT');
    // Settle the database as a long-running one would be: fresh statistics (without them the planner guesses on
    // empty-table estimates), and the bulk load's autovacuum and checkpoint done now rather than during whichever
    // measured phase runs first, which would skew the scheduler-to-reference ratio.
    await step('vacuum analyze', 'VACUUM (ANALYZE)');
    try {
      await step('checkpoint', 'CHECKPOINT');
    } catch (error) {
      log(`  checkpoint skipped: ${error instanceof Error ? error.message : String(error)}`);
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
