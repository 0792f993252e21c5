import type { AlarmState } from '@agent-conductor/scheduling-domain';
import { AlarmSpec, eventBridgeAlarmBody, jiraIssueBody, jiraWebhookBody, snsAlarmBody, snsWrappedEventBridgeBody, TicketSpec } from './bodies';
import type { ScenarioMessage } from './scenario';

export interface GeneratorOptions {
  accounts: number;
  alarmsPerHour: number;
  hours: number;
  tickets: number;
  /** Fraction of messages delivered a second time with the same message id. */
  duplicates: number;
  /** Fraction of extra messages with garbage bodies. */
  garbage: number;
  seed: number;
  start: Date;
}

export const DEFAULT_GENERATOR_OPTIONS: GeneratorOptions = {
  accounts: 20,
  alarmsPerHour: 60,
  hours: 24,
  tickets: 100,
  duplicates: 0.05,
  garbage: 0,
  seed: 1,
  start: new Date('2026-05-12T00:00:00.000Z'),
};

/** mulberry32: tiny, fast and identical on every platform, which is what a seed needs. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = createRandom(seed);
  }
  float(): number {
    return this.next();
  }
  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

interface AlarmDefinition {
  alarmName: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  threshold: number;
}

interface Account {
  id: string;
  region: string;
  alarms: AlarmDefinition[];
  /** Relative share of the traffic: a few noisy accounts, a long quiet tail. */
  weight: number;
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'] as const;
const SERVICES = ['api', 'orders', 'payments', 'search', 'auth', 'billing', 'catalog', 'checkout', 'ingest', 'reports'] as const;
const METRICS: ReadonlyArray<Omit<AlarmDefinition, 'alarmName' | 'dimensions'> & { suffix: string; dimension: string }> = [
  { suffix: 'high-cpu', namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimension: 'InstanceId', threshold: 80 },
  { suffix: '5xx', namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimension: 'LoadBalancer', threshold: 50 },
  { suffix: 'latency-p99', namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimension: 'LoadBalancer', threshold: 1.5 },
  { suffix: 'db-free-storage', namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimension: 'DBInstanceIdentifier', threshold: 5e9 },
  { suffix: 'db-connections', namespace: 'AWS/RDS', metricName: 'DatabaseConnections', dimension: 'DBInstanceIdentifier', threshold: 900 },
  { suffix: 'queue-age', namespace: 'AWS/SQS', metricName: 'ApproximateAgeOfOldestMessage', dimension: 'QueueName', threshold: 600 },
  { suffix: 'lambda-errors', namespace: 'AWS/Lambda', metricName: 'Errors', dimension: 'FunctionName', threshold: 10 },
];
const TICKET_PROJECTS = ['ENG', 'OPS', 'WEB', 'DATA', 'SEC'] as const;
const TICKET_VERBS = ['Fix', 'Investigate', 'Add', 'Remove', 'Upgrade', 'Document', 'Speed up'] as const;
const TICKET_SUBJECTS = ['login redirect after session timeout', 'CSV export of invoices', 'flaky checkout test', 'search pagination',
  'password reset e-mail', 'retry on S3 throttling', 'dark mode toggle', 'N+1 query on the orders page', 'audit log retention'] as const;

function makeAccounts(dice: Dice, count: number): Account[] {
  const used = new Set<string>();
  const accounts: Account[] = [];
  for (let index = 0; index < count; index += 1) {
    let id: string;
    do {
      id = String(dice.int(100000, 999999)) + String(dice.int(100000, 999999));
    } while (used.has(id));
    used.add(id);
    const alarms: AlarmDefinition[] = [];
    for (let alarm = 0; alarm < dice.int(3, 8); alarm += 1) {
      const service = dice.pick(SERVICES);
      const metric = dice.pick(METRICS);
      const alarmName = `${service}-${metric.suffix}`;
      if (alarms.some((existing) => existing.alarmName === alarmName)) continue;
      const resource = metric.dimension === 'InstanceId' ? `i-0${dice.uuid().replace(/-/g, '').slice(0, 16)}` : `${service}-prod`;
      alarms.push({ alarmName, namespace: metric.namespace, metricName: metric.metricName, dimensions: { [metric.dimension]: resource }, threshold: metric.threshold });
    }
    accounts.push({ id, region: dice.pick(REGIONS), alarms, weight: 1 / (index + 1) });
  }
  return accounts;
}

function weightedAccount(dice: Dice, accounts: Account[], totalWeight: number): Account {
  let roll = dice.float() * totalWeight;
  for (const account of accounts) {
    roll -= account.weight;
    if (roll <= 0) return account;
  }
  return accounts[accounts.length - 1] as Account;
}

interface Pending {
  receivedAt: number;
  /** Creation order: ties in receivedAt keep it, so output is stable. */
  order: number;
  messageId: string;
  render: () => string;
}

/**
 * A synthetic but realistic day of intake traffic. Alarms come in episodes: an
 * account's alarms go to ALARM, some flap, then recover to OK; accounts are
 * Zipf-weighted. Delivery lags a few seconds behind the event time, now and
 * then minutes (so some alarms arrive out of order). Tickets are Jira issues
 * or webhooks, some updated later under the same key. A share of messages is
 * redelivered with the same message id, as SQS does after a visibility timeout.
 * Deterministic for a seed.
 */
export function generateScenario(options: GeneratorOptions): ScenarioMessage[] {
  const dice = new Dice(options.seed);
  const start = options.start.getTime();
  const span = options.hours * 3_600_000;
  const accounts = makeAccounts(dice, Math.max(1, options.accounts));
  const totalWeight = accounts.reduce((sum, account) => sum + account.weight, 0);
  const pending: Pending[] = [];
  let order = 0;
  const add = (receivedAt: number, messageId: string, render: () => string): void => {
    pending.push({ receivedAt, order: order++, messageId, render });
  };
  const lag = (): number => (dice.chance(0.03) ? dice.int(60_000, 600_000) : dice.int(500, 20_000));

  const alarmTarget = Math.round(options.alarmsPerHour * options.hours);
  let alarmCount = 0;
  while (alarmCount < alarmTarget) {
    const account = weightedAccount(dice, accounts, totalWeight);
    const episodeStart = start + Math.floor(dice.float() * span);
    const involved = Math.min(account.alarms.length, dice.int(1, 3));
    for (let index = 0; index < involved && alarmCount < alarmTarget; index += 1) {
      const definition = account.alarms[(index + dice.int(0, account.alarms.length - 1)) % account.alarms.length] as AlarmDefinition;
      let at = episodeStart + dice.int(0, 20 * 60_000);
      const flaps = dice.chance(0.25) ? dice.int(2, 6) : 1;
      let previous: AlarmState = 'OK';
      for (let flap = 0; flap < flaps && alarmCount < alarmTarget; flap += 1) {
        for (const state of ['ALARM', dice.chance(0.05) ? 'INSUFFICIENT_DATA' : 'OK'] as const) {
          if (alarmCount >= alarmTarget || at >= start + span) break;
          const spec: AlarmSpec = {
            account: account.id,
            region: account.region,
            alarmName: definition.alarmName,
            state,
            previousState: previous,
            time: new Date(at),
            namespace: definition.namespace,
            metricName: definition.metricName,
            dimensions: definition.dimensions,
            threshold: definition.threshold,
            value: state === 'ALARM' ? Math.round(definition.threshold * 1.3 * 100) / 100 : Math.round(definition.threshold * 0.4 * 100) / 100,
          };
          const shape = dice.float();
          const eventId = dice.uuid();
          const snsId = dice.uuid();
          const render =
            shape < 0.55 ? () => eventBridgeAlarmBody(spec, eventId) : shape < 0.9 ? () => snsAlarmBody(spec, snsId) : () => snsWrappedEventBridgeBody(spec, snsId, eventId);
          add(at + lag(), dice.uuid(), render);
          alarmCount += 1;
          previous = state;
          at += state === 'ALARM' ? dice.int(2, 45) * 60_000 : dice.int(1, 30) * 60_000;
        }
      }
    }
  }

  for (let index = 0; index < options.tickets; index += 1) {
    const project = dice.pick(TICKET_PROJECTS);
    const created = start + Math.floor(dice.float() * span);
    const spec: TicketSpec = {
      id: String(10000 + index),
      key: `${project}-${1000 + index}`,
      summary: `${dice.pick(TICKET_VERBS)} ${dice.pick(TICKET_SUBJECTS)}`,
      paragraphs: ['Reported by a customer through support.', `Seen since ${new Date(created).toISOString().slice(0, 10)}.`],
      issueType: dice.pick(['Bug', 'Task', 'Story']),
      priority: dice.pick(['Low', 'Medium', 'High']),
      labels: dice.chance(0.5) ? ['customer'] : [],
      components: dice.chance(0.5) ? [dice.pick(['Authentication', 'Billing', 'Frontend'])] : [],
      created: new Date(created),
    };
    const asWebhook = dice.chance(0.3);
    add(created + lag(), dice.uuid(), () => (asWebhook ? jiraWebhookBody(spec, 'jira:issue_created', spec.created) : jiraIssueBody(spec)));
    if (dice.chance(0.1)) {
      // An edit: same key, new message; it must never spawn a second agent.
      const updatedAt = new Date(created + dice.int(5, 240) * 60_000);
      add(updatedAt.getTime() + lag(), dice.uuid(), () => jiraWebhookBody({ ...spec, summary: `${spec.summary} (updated)` }, 'jira:issue_updated', updatedAt));
    }
  }

  const garbage = Math.round(pending.length * options.garbage);
  const junk = ['not json at all', '[1,2,3]', '{"hello":"world"}', '{"fields":{"summary":"no key"}}', '{"Type":"Notification","Message":"{\\"AlarmName\\":\\"x\\",\\"NewStateValue\\":\\"ALARM\\"}"}'];
  for (let index = 0; index < garbage; index += 1) {
    const body = dice.pick(junk);
    add(start + Math.floor(dice.float() * span), dice.uuid(), () => body);
  }

  const originals = pending.length;
  for (let index = 0; index < originals; index += 1) {
    if (!dice.chance(options.duplicates)) continue;
    const original = pending[index] as Pending;
    add(original.receivedAt + dice.int(30_000, 900_000), original.messageId, original.render);
  }

  pending.sort((a, b) => a.receivedAt - b.receivedAt || a.order - b.order);
  return pending.map((entry) => ({ messageId: entry.messageId, receivedAt: new Date(entry.receivedAt).toISOString(), body: entry.render() }));
}
