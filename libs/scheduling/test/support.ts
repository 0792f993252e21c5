import type { PrismaClient } from '@agent-conductor/db';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * libs/testing may not be imported from a type:data library (module boundaries), so the few helpers these tests
 * need live here. The queue bodies are the scheduling domain's verbatim fixtures.
 */

export function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    throw new Error('DATABASE_URL is not set: run through `nx test scheduling` (libs/testing global setup)');
  }
  return url;
}

export async function emptyTables(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRawUnsafe(
    'TRUNCATE TABLE alarms, incidents, worker_events, workers, jobs, deliveries, tickets RESTART IDENTITY CASCADE',
  );
}

const FIXTURES = join(__dirname, '../../scheduling-domain/src/test-fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export type AlarmStateValue = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

export interface AlarmSpec {
  account: string;
  time: Date;
  name?: string;
  state?: AlarmStateValue;
  reason?: string;
}

/** The EventBridge fixture with its account, time, alarm name and state replaced. */
export function eventBridgeAlarm(spec: AlarmSpec): string {
  const event = JSON.parse(fixture('cloudwatch-alarm.eventbridge.json')) as {
    account: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { value: string; reason: string } };
  };
  event.account = spec.account;
  event.time = spec.time.toISOString();
  event.detail.alarmName = spec.name ?? 'api-high-cpu';
  event.resources = [`arn:aws:cloudwatch:us-west-2:${spec.account}:alarm:${event.detail.alarmName}`];
  event.detail.state.value = spec.state ?? 'ALARM';
  if (spec.reason !== undefined) event.detail.state.reason = spec.reason;
  return JSON.stringify(event);
}

/** The SNS fixture (CloudWatch's own notification), with StateChangeTime in CloudWatch's "+0000" format. */
export function snsAlarm(spec: AlarmSpec): string {
  const envelope = JSON.parse(fixture('cloudwatch-alarm.sns.json')) as { Message: string };
  const message = JSON.parse(envelope.Message) as Record<string, unknown>;
  const name = spec.name ?? 'orders-db-free-storage';
  message['AWSAccountId'] = spec.account;
  message['AlarmName'] = name;
  message['AlarmArn'] = `arn:aws:cloudwatch:us-west-2:${spec.account}:alarm:${name}`;
  message['NewStateValue'] = spec.state ?? 'ALARM';
  message['StateChangeTime'] = spec.time.toISOString().replace('Z', '+0000');
  if (spec.reason !== undefined) message['NewStateReason'] = spec.reason;
  envelope.Message = JSON.stringify(message);
  return JSON.stringify(envelope);
}

/** A deterministic PRNG, so a randomised scenario fails the same way every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
