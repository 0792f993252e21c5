import { fixture } from '../test-support/fixtures';
import { classifyMessage } from './classify-message';
import { renderIncidentTask } from './incident-task';
import { AlarmFacts } from './types';

function alarmOf(name: string): AlarmFacts {
  const result = classifyMessage(fixture(name));
  if (result.classification !== 'alarm') throw new Error(JSON.stringify(result));
  return result.alarm;
}

describe('renderIncidentTask', () => {
  const eventBridge = alarmOf('cloudwatch-alarm.eventbridge.json');
  const sns = alarmOf('cloudwatch-alarm.sns.json');

  it('renders account, region, alarm, state reason and metric of one EventBridge alarm', () => {
    expect(renderIncidentTask({ account: eventBridge.account, region: eventBridge.region, alarms: [eventBridge] })).toBe(
      [
        '# Incident in AWS account 123456789012 (us-west-2)',
        '',
        '- **Account:** 123456789012',
        '- **Region:** us-west-2',
        '- **Alarm:** api-high-cpu',
        '- **First alarm at:** 2026-05-12T20:58:58.000Z',
        '- **Alarms so far:** 1',
        '',
        '## Alarms seen so far',
        '',
        '### 1. api-high-cpu: ALARM at 2026-05-12T20:58:58.000Z',
        '',
        '- **Region:** us-west-2',
        '- **State reason:** Threshold Crossed: 1 datapoint [99.8 (12/05/26 20:58:58)] was greater than the threshold (20.0).',
        '- **Metric:** AWS/EC2 / CPUUtilization (InstanceId=i-0abc123def4567890)',
        '- **Alarm ARN:** arn:aws:cloudwatch:us-west-2:123456789012:alarm:api-high-cpu',
        '',
      ].join('\n'),
    );
  });

  it('lists every alarm in event-time order, whatever order they are given in', () => {
    const task = renderIncidentTask({ account: '123456789012', region: 'us-west-2', alarms: [sns, eventBridge] });
    expect(task).toContain('- **Alarms:** api-high-cpu, orders-db-free-storage\n');
    expect(task).toContain('- **Latest alarm at:** 2026-05-12T21:05:00.000Z\n');
    expect(task).toContain('- **Alarms so far:** 2\n');
    expect(task.indexOf('### 1. api-high-cpu')).toBeGreaterThan(0);
    expect(task.indexOf('### 2. orders-db-free-storage: ALARM at 2026-05-12T21:05:00.000Z')).toBeGreaterThan(task.indexOf('### 1.'));
    expect(task).toContain('- **Metric:** AWS/RDS / FreeStorageSpace (DBInstanceIdentifier=orders-db)\n');
    expect(task).toContain('- **State reason:** Threshold Crossed: 1 datapoint [4.2E9] was less than the threshold (5.0E9).\n');
  });

  it('says how many alarms are not listed when given only the first ones', () => {
    const task = renderIncidentTask({ account: '1', region: null, alarms: [eventBridge], totalAlarms: 7 });
    expect(task).toContain('- **Alarms so far:** 7\n');
    expect(task).toContain('_6 later alarm(s) of this incident are not listed here._\n');
  });

  it('keeps a multi-line reason on one line and says when there is no metric', () => {
    const task = renderIncidentTask({
      account: '1',
      region: null,
      alarms: [{ ...eventBridge, region: null, reason: 'line one\n\n# not a heading', metrics: [] }],
    });
    expect(task).toContain('- **State reason:** line one # not a heading\n');
    expect(task).toContain('- **Metric:** _not given');
    expect(task.split('\n')[0]).toBe('# Incident in AWS account 1');
  });

  it('names every account when incidents of several accounts share the job, its own account first', () => {
    const other = { ...sns, account: '210987654321' };
    const task = renderIncidentTask({ account: '123456789012', region: 'us-west-2', alarms: [other, eventBridge] });
    expect(task.split('\n')[0]).toBe('# Incident across AWS accounts 123456789012, 210987654321');
    expect(task).toContain('- **Accounts:** 123456789012, 210987654321\n');
    expect(task).toContain('### 2. orders-db-free-storage: ALARM at 2026-05-12T21:05:00.000Z\n\n- **Account:** 210987654321\n');
    expect(task).toContain('### 1. api-high-cpu: ALARM at 2026-05-12T20:58:58.000Z\n\n- **Account:** 123456789012\n');
  });
});
