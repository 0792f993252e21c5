/**
 * The traffic a chaos run pushes, deterministic for (messages, seed).
 *
 * Kills make SQS redeliver messages late, so the intake sees them in an order
 * the harness does not control. The incident rules never merge incidents, which
 * makes the outcome of a rolling chain depend on arrival order (0, 50, 100 min:
 * one incident in order; two when 100 arrives before 50). So the scenario keeps
 * the expectation well defined:
 *  - "free" alarm groups are order-independent by construction: every pair of
 *    ALARMs in a group is within the window, and groups of one account are more
 *    than a window apart;
 *  - rolling chains and the 24 h cap chain are "serial": each alarm names the
 *    message that must be persisted before it is sent (`after`);
 *  - a duplicate alarm is sent only after its original was persisted.
 */
import { eventBridgeAlarmBody, GARBAGE_BODIES, snsAlarmBody, ticketBody } from './bodies';
import type { AlarmState, ScenarioFact } from './reference';
import { Rng } from './rng';

export interface ScenarioMessage {
  index: number;
  body: string;
  fact: ScenarioFact;
  /** Index of the message that must be persisted before this one is sent. */
  after?: number;
  label: string;
}

export interface Scenario {
  seed: number;
  messages: ScenarioMessage[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The AWS accounts alarms come from; the harness routes their incidents to a claim of their own. */
export const ACCOUNTS = ['111111111111', '222222222222', '333333333333'];
const BASE_TIME = Date.UTC(2026, 4, 10, 0, 0, 0);
/** Between two episodes of one account: far more than the window, so they never interact. */
const EPISODE_GAP = 3 * HOUR;
/** Enough alarm budget to afford the 26-alarm chain across the 24 h cap. */
const CAP_CHAIN_MIN_BUDGET = 80;

interface PlannedAlarm {
  state: AlarmState;
  offsetMs: number;
}

type EpisodeKind = 'pair-exact-window' | 'pair-window-plus-1s' | 'burst' | 'rolling-chain' | 'cap-chain' | 'ok-only';

interface Episode {
  kind: EpisodeKind;
  serial: boolean;
  alarms: PlannedAlarm[];
}

function alarm(offsetMs: number, state: AlarmState = 'ALARM'): PlannedAlarm {
  return { state, offsetMs };
}

function episode(kind: EpisodeKind, rng: Rng, size: number): Episode {
  switch (kind) {
    case 'pair-exact-window':
      return { kind, serial: false, alarms: [alarm(0), alarm(60 * MINUTE)] };
    case 'pair-window-plus-1s':
      return { kind, serial: false, alarms: [alarm(0), alarm(60 * MINUTE + 1000)] };
    case 'burst': {
      // Diameter at most the window: any arrival order gives one incident.
      const alarms = [alarm(0)];
      if (size >= 2) alarms.push(alarm(60 * MINUTE));
      while (alarms.length < size) alarms.push(alarm(rng.int(0, 60) * MINUTE, rng.next() < 0.25 ? 'OK' : 'ALARM'));
      return { kind, serial: false, alarms };
    }
    case 'rolling-chain': {
      const alarms = [alarm(0)];
      let at = 0;
      while (alarms.length < size) {
        at += rng.next() < 0.3 ? 60 * MINUTE : rng.int(20, 59) * MINUTE;
        alarms.push(alarm(at));
      }
      return { kind, serial: true, alarms };
    }
    case 'cap-chain':
      // 0 h … 24 h every hour (exactly 24 h still joins), then 25 h starts a new incident.
      return { kind, serial: true, alarms: Array.from({ length: 26 }, (_, hour) => alarm(hour * HOUR)) };
    case 'ok-only':
      return { kind, serial: false, alarms: [alarm(0, 'OK')] };
  }
}

const EPISODE_SIZE: Record<EpisodeKind, (rng: Rng) => number> = {
  'pair-exact-window': () => 2,
  'pair-window-plus-1s': () => 2,
  burst: (rng) => rng.int(2, 5),
  'rolling-chain': (rng) => rng.int(3, 5),
  'cap-chain': () => 26,
  'ok-only': () => 1,
};

export function generateScenario(messageCount: number, seed: number): Scenario {
  if (!Number.isInteger(messageCount) || messageCount < 5) throw new RangeError('a scenario needs at least 5 messages');
  const rng = new Rng(seed);
  const messages: ScenarioMessage[] = [];
  const add = (message: Omit<ScenarioMessage, 'index'>): number => {
    messages.push({ ...message, index: messages.length });
    return messages.length - 1;
  };

  const garbageCount = Math.max(1, Math.round(messageCount * 0.05));
  const ticketBudget = Math.round(messageCount * 0.4);
  const alarmBudget = messageCount - garbageCount - ticketBudget;

  let ticketsLeft = ticketBudget;
  for (let n = 1; ticketsLeft > 0; n++) {
    const key = `CHAOS-${n}`;
    const form = rng.next() < 0.35 ? 'webhook' : 'issue';
    const copies = Math.min(ticketsLeft, rng.int(1, 3));
    const body = ticketBody(key, `Chaos ticket ${n}`, form);
    for (let copy = 1; copy <= copies; copy++) {
      add({ body, fact: { kind: 'ticket', key }, label: `ticket ${key} (${form}) copy ${copy}/${copies}` });
    }
    ticketsLeft -= copies;
  }

  const duplicateBudget = Math.floor(alarmBudget * 0.15);
  let alarmsLeft = alarmBudget - duplicateBudget;
  const cursor = new Map(ACCOUNTS.map((account) => [account, BASE_TIME]));
  const firstPass: EpisodeKind[] = ['pair-exact-window', 'pair-window-plus-1s', 'rolling-chain', 'burst', 'ok-only'];
  if (alarmsLeft >= CAP_CHAIN_MIN_BUDGET) firstPass.splice(2, 0, 'cap-chain');
  const later: EpisodeKind[] = ['burst', 'burst', 'rolling-chain', 'pair-exact-window', 'pair-window-plus-1s', 'ok-only'];
  const alarmIndexes: number[] = [];
  for (let n = 0; alarmsLeft > 0; n++) {
    let kind = n < firstPass.length ? (firstPass[n] as EpisodeKind) : rng.pick(later);
    let size = EPISODE_SIZE[kind](rng);
    if (size > alarmsLeft) {
      kind = alarmsLeft === 1 ? 'ok-only' : 'burst';
      size = alarmsLeft;
    }
    const planned = episode(kind, rng, size);
    const account = ACCOUNTS[n % ACCOUNTS.length] as string;
    const start = cursor.get(account) ?? BASE_TIME;
    const alarmName = `chaos-${kind}-${n}`;
    let previous: number | undefined;
    for (const planAlarm of planned.alarms) {
      const fact = { kind: 'alarm' as const, account, state: planAlarm.state, eventTimeMs: start + planAlarm.offsetMs };
      const shape = rng.next() < 0.5 ? 'eventbridge' : 'sns';
      const input = { account, alarmName, state: fact.state, eventTimeMs: fact.eventTimeMs };
      const index = add({
        body: shape === 'sns' ? snsAlarmBody(input) : eventBridgeAlarmBody(input),
        fact,
        after: planned.serial ? previous : undefined,
        label: `alarm ${account} ${fact.state} ${new Date(fact.eventTimeMs).toISOString()} (${shape}, ${kind} #${n})`,
      });
      previous = index;
      alarmIndexes.push(index);
    }
    const last = Math.max(...planned.alarms.map((a) => a.offsetMs));
    cursor.set(account, start + last + EPISODE_GAP);
    alarmsLeft -= planned.alarms.length;
  }
  for (let n = 0; n < duplicateBudget; n++) {
    const original = messages[rng.pick(alarmIndexes)] as ScenarioMessage;
    add({ body: original.body, fact: original.fact, after: original.index, label: `${original.label} re-sent` });
  }

  for (let n = 0; n < garbageCount; n++) {
    add({ body: rng.pick(GARBAGE_BODIES), fact: { kind: 'garbage' }, label: `garbage ${n + 1}` });
  }
  return { seed, messages };
}

/**
 * An order the intake may see: any interleaving that still respects `after`.
 * Used by the tests to check that the expectation is the same for all of them.
 */
export function possibleArrivalOrder(scenario: Scenario, rng: Rng): ScenarioMessage[] {
  const done = new Set<number>();
  const waiting = [...scenario.messages];
  const order: ScenarioMessage[] = [];
  while (waiting.length > 0) {
    const ready = waiting.filter((message) => message.after === undefined || done.has(message.after));
    const next = rng.pick(ready);
    waiting.splice(waiting.indexOf(next), 1);
    done.add(next.index);
    order.push(next);
  }
  return order;
}
