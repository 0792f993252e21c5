import { ClassifiedMessage } from './types';

/**
 * Which messages of one batch must be decided one after another, in the order they came: those that change the same
 * rows under the same lock. ALARMs, OKs and INSUFFICIENT_DATAs of one AWS account chain into that account's incidents
 * (an incident's reach depends on the alarms already in it), and deliveries of one ticket key refresh that ticket
 * (the last one decided wins), and so do the comments of one pull request (batched into one follow-up). Undefined: a rejected message touches nothing shared and may go at any time.
 *
 * Alarms of an account whose incident route has a `group` share the group's lane: a new incident of one account may
 * attach to another account's job (incident-group.ts), so the group's decisions depend on their order.
 *
 * Keys of the kinds never collide: each has its own prefix.
 */
export function orderingKey(classified: ClassifiedMessage, groupOf: (account: string) => string | undefined = () => undefined): string | undefined {
  if (classified.classification === 'alarm') {
    const group = groupOf(classified.alarm.account);
    return group === undefined ? `account:${classified.alarm.account}` : `group:${group}`;
  }
  if (classified.classification === 'ticket') return `ticket:${classified.ticket.key}`;
  if (classified.classification === 'update') {
    const { update } = classified;
    const thread = update.kind === 'comment' ? update.comment.thread : update.thread;
    // A Jira update shares its ticket's lane: an issue_updated of a new ticket is that ticket's first delivery.
    if (thread?.kind === 'ticket') return `ticket:${thread.key}`;
    if (thread?.kind === 'pull-request') return `pull-request:${thread.url}`;
  }
  return undefined;
}

/**
 * Splits a batch into lanes: each lane holds the positions of messages sharing an ordering key, in batch order; every
 * message without a key gets a lane of its own. Lanes can be decided concurrently; a lane's messages one by one.
 * Lanes come in the order of their first message.
 */
export function orderingLanes(keys: ReadonlyArray<string | undefined>): number[][] {
  const lanes: number[][] = [];
  const byKey = new Map<string, number[]>();
  keys.forEach((key, position) => {
    if (key === undefined) {
      lanes.push([position]);
      return;
    }
    const lane = byKey.get(key);
    if (lane) {
      lane.push(position);
      return;
    }
    const created = [position];
    byKey.set(key, created);
    lanes.push(created);
  });
  return lanes;
}
