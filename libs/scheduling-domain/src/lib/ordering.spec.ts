import { classifyMessage } from './classify-message';
import { orderingKey, orderingLanes } from './ordering';

const receivedAt = new Date('2026-05-12T18:30:00.000Z');

function alarm(account: string, state = 'ALARM'): string {
  return JSON.stringify({
    version: '0',
    id: `event-${account}-${state}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: '2026-05-12T18:22:14Z',
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:${account}:alarm:high-cpu`],
    detail: { alarmName: 'high-cpu', state: { value: state, reason: 'Threshold Crossed' } },
  });
}

function ticket(key: string): string {
  return JSON.stringify({ id: '10001', key, fields: { summary: `Fix ${key}`, project: { key: key.split('-')[0] } } });
}

describe('orderingKey', () => {
  it('keys alarms by account, whatever their state, and tickets by ticket key', () => {
    expect(orderingKey(classifyMessage(alarm('123456789012'), receivedAt))).toBe('account:123456789012');
    expect(orderingKey(classifyMessage(alarm('123456789012', 'OK'), receivedAt))).toBe('account:123456789012');
    expect(orderingKey(classifyMessage(alarm('210987654321'), receivedAt))).toBe('account:210987654321');
    expect(orderingKey(classifyMessage(ticket('SHOP-1'), receivedAt))).toBe('ticket:SHOP-1');
  });

  it("gives the alarms of a grouped account their group's key, so group members share a lane", () => {
    const groupOf = (account: string): string | undefined => (account === '123456789012' || account === '210987654321' ? 'shop' : undefined);
    expect(orderingKey(classifyMessage(alarm('123456789012'), receivedAt), groupOf)).toBe('group:shop');
    expect(orderingKey(classifyMessage(alarm('210987654321', 'OK'), receivedAt), groupOf)).toBe('group:shop');
    expect(orderingKey(classifyMessage(alarm('333333333333'), receivedAt), groupOf)).toBe('account:333333333333');
    expect(orderingKey(classifyMessage(ticket('SHOP-1'), receivedAt), groupOf)).toBe('ticket:SHOP-1');
  });

  it('gives a rejected message no key', () => {
    expect(orderingKey(classifyMessage('not json {', receivedAt))).toBeUndefined();
  });
});

describe('orderingLanes', () => {
  it('keeps the messages of one key in one lane, in batch order, and gives each keyless message its own lane', () => {
    expect(orderingLanes(['a', 'b', undefined, 'a', 'b', undefined, 'a'])).toEqual([[0, 3, 6], [1, 4], [2], [5]]);
  });

  it('covers every position exactly once', () => {
    const keys = ['x', undefined, 'y', 'x', 'z', undefined, 'y', 'y'];
    const positions = orderingLanes(keys).flat().sort((a, b) => a - b);
    expect(positions).toEqual(keys.map((_, index) => index));
  });

  it('is empty for an empty batch', () => {
    expect(orderingLanes([])).toEqual([]);
  });
});
