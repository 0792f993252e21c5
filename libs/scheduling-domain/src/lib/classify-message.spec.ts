import { editedFixture, fixture, fixtureNames } from '../test-support/fixtures';
import { classifyMessage, EARLIEST_EVENT_TIME, eventTimeProblem, MAX_EVENT_TIME_AHEAD_MS } from './classify-message';
import { AlarmFacts, ClassifiedMessage, TicketFacts } from './types';

function expectTicket(result: ClassifiedMessage, source: 'jira-issue' | 'jira-webhook'): TicketFacts {
  if (result.classification !== 'ticket') throw new Error(`expected a ticket, got ${JSON.stringify(result)}`);
  expect(result.source).toBe(source);
  return result.ticket;
}

function expectAlarm(result: ClassifiedMessage, source: 'eventbridge' | 'sns'): AlarmFacts {
  if (result.classification !== 'alarm') throw new Error(`expected an alarm, got ${JSON.stringify(result)}`);
  expect(result.source).toBe(source);
  return result.alarm;
}

function rejectionReason(result: ClassifiedMessage): string {
  if (result.classification !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.reason;
}

function snsEnvelope(message: unknown): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: 'm-1',
    TopicArn: 'arn:aws:sns:us-west-2:123456789012:cloudwatch-alarms',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
  });
}

/** The SNS fixture's inner alarm notification, edited. */
function snsAlarm(edit: (message: Record<string, unknown>) => void): string {
  const envelope = JSON.parse(fixture('cloudwatch-alarm.sns.json')) as { Message: string };
  const message = JSON.parse(envelope.Message) as Record<string, unknown>;
  edit(message);
  return snsEnvelope(message);
}

function eventBridgeAlarm(edit: (event: Record<string, unknown>, detail: Record<string, unknown>) => void): string {
  return editedFixture('cloudwatch-alarm.eventbridge.json', (event) => edit(event, event['detail'] as Record<string, unknown>));
}

describe('classifyMessage: fixtures', () => {
  it.each(fixtureNames())('classifies %s as a ticket or an alarm', (name) => {
    expect(classifyMessage(fixture(name)).classification).not.toBe('rejected');
  });

  it('reads a Jira issue with an ADF description', () => {
    const ticket = expectTicket(classifyMessage(fixture('jira-issue.json')), 'jira-issue');
    expect(ticket).toEqual({
      key: 'ENG-123',
      externalId: '10002',
      projectKey: 'ENG',
      summary: 'Login fails after session timeout',
      description: 'Users are redirected to a blank page after their session expires.\n\n- Reproduces in Chrome and Firefox.',
      labels: ['auth', 'session'],
      components: ['Authentication'],
      issueType: 'Bug',
      priority: 'High',
    });
  });

  it('reads the issue inside a jira:issue_created webhook', () => {
    const ticket = expectTicket(classifyMessage(fixture('jira-webhook.issue_created.json')), 'jira-webhook');
    expect(ticket.key).toBe('ENG-125');
    expect(ticket.externalId).toBe('10005');
    expect(ticket.summary).toBe('Login fails after session timeout');
  });

  it('takes jira:issue_updated webhooks as updates carrying the whole ticket (its first delivery if it is new)', () => {
    const body = editedFixture('jira-webhook.issue_created.json', (b) => {
      b['webhookEvent'] = 'jira:issue_updated';
    });
    const classified = classifyMessage(body);
    if (classified.classification !== 'update' || classified.update.kind !== 'notice') throw new Error(`expected an update notice, got ${JSON.stringify(classified)}`);
    expect(classified.source).toBe('jira-webhook');
    expect(classified.update.ticket?.key).toBe('ENG-125');
  });

  it('reads a CloudWatch alarm state change from EventBridge', () => {
    const alarm = expectAlarm(classifyMessage(fixture('cloudwatch-alarm.eventbridge.json')), 'eventbridge');
    expect(alarm).toEqual({
      account: '123456789012',
      region: 'us-west-2',
      alarmName: 'api-high-cpu',
      state: 'ALARM',
      reason: 'Threshold Crossed: 1 datapoint [99.8 (12/05/26 20:58:58)] was greater than the threshold (20.0).',
      eventTime: new Date('2026-05-12T20:58:58.000Z'),
      alarmArn: 'arn:aws:cloudwatch:us-west-2:123456789012:alarm:api-high-cpu',
      metrics: [{ namespace: 'AWS/EC2', name: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc123def4567890' } }],
    });
  });

  it('reads a CloudWatch alarm notification from SNS, region taken from the alarm ARN', () => {
    const alarm = expectAlarm(classifyMessage(fixture('cloudwatch-alarm.sns.json')), 'sns');
    expect(alarm).toEqual({
      account: '123456789012',
      region: 'us-west-2',
      alarmName: 'orders-db-free-storage',
      state: 'ALARM',
      reason: 'Threshold Crossed: 1 datapoint [4.2E9] was less than the threshold (5.0E9).',
      eventTime: new Date(Date.UTC(2026, 4, 12, 21, 5, 0, 0)),
      alarmArn: 'arn:aws:cloudwatch:us-west-2:123456789012:alarm:orders-db-free-storage',
      metrics: [{ namespace: 'AWS/RDS', name: 'FreeStorageSpace', dimensions: { DBInstanceIdentifier: 'orders-db' } }],
    });
  });

  it('reads an EventBridge alarm event delivered through SNS as source sns', () => {
    const alarm = expectAlarm(classifyMessage(snsEnvelope(fixture('cloudwatch-alarm.eventbridge.json'))), 'sns');
    expect(alarm.alarmName).toBe('api-high-cpu');
    expect(alarm.eventTime.toISOString()).toBe('2026-05-12T20:58:58.000Z');
  });
});

describe('classifyMessage: field handling', () => {
  it('falls back to the id as key when an issue has no key', () => {
    const body = editedFixture('jira-issue.json', (b) => {
      delete b['key'];
    });
    const ticket = expectTicket(classifyMessage(body), 'jira-issue');
    expect(ticket.key).toBe('10002');
    expect(ticket.externalId).toBe('10002');
  });

  it('accepts a numeric id', () => {
    const body = JSON.stringify({ id: 42, fields: { summary: 'Numeric id' } });
    expect(expectTicket(classifyMessage(body), 'jira-issue')).toMatchObject({ key: '42', externalId: '42' });
  });

  it('passes a plain-string description through and defaults missing metadata', () => {
    const body = JSON.stringify({ key: 'OPS-7', fields: { summary: 'Rotate logs', description: 'Logs fill /var.\nRotate daily.' } });
    expect(expectTicket(classifyMessage(body), 'jira-issue')).toEqual({
      key: 'OPS-7',
      externalId: null,
      projectKey: null,
      summary: 'Rotate logs',
      description: 'Logs fill /var.\nRotate daily.',
      labels: [],
      components: [],
      issueType: null,
      priority: null,
    });
  });

  it('accepts a ticket with only a description', () => {
    const body = JSON.stringify({ key: 'OPS-8', fields: { summary: '  ', description: 'Only text here' } });
    expect(expectTicket(classifyMessage(body), 'jira-issue')).toMatchObject({ summary: '', description: 'Only text here' });
  });

  it('collapses a multi-line summary onto one line', () => {
    const body = JSON.stringify({ key: 'OPS-9', fields: { summary: 'First line\n  second line ' } });
    expect(expectTicket(classifyMessage(body), 'jira-issue').summary).toBe('First line second line');
  });

  it('keeps the state of an OK alarm and its missing reason as null', () => {
    const alarm = expectAlarm(
      classifyMessage(
        eventBridgeAlarm((_e, detail) => {
          detail['state'] = { value: 'OK' };
        }),
      ),
      'eventbridge',
    );
    expect(alarm.state).toBe('OK');
    expect(alarm.reason).toBeNull();
  });

  it('skips metric-math entries that have no single metric', () => {
    const body = eventBridgeAlarm((_e, detail) => {
      detail['configuration'] = {
        metrics: [
          { id: 'e1', expression: 'm1 * 100' },
          { id: 'm1', metricStat: { metric: { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: 'f' } } } },
        ],
      };
    });
    expect(expectAlarm(classifyMessage(body), 'eventbridge').metrics).toEqual([
      { namespace: 'AWS/Lambda', name: 'Errors', dimensions: { FunctionName: 'f' } },
    ]);
  });

  it('reads the metrics of an SNS metric-math alarm from Trigger.Metrics', () => {
    const body = snsAlarm((m) => {
      m['Trigger'] = {
        Metrics: [
          { Id: 'e1', Expression: 'm1/m2' },
          { Id: 'm1', MetricStat: { Metric: { Namespace: 'AWS/ELB', MetricName: 'HTTPCode_5XX', Dimensions: [{ name: 'LoadBalancer', value: 'lb-1' }] } } },
        ],
      };
    });
    expect(expectAlarm(classifyMessage(body), 'sns').metrics).toEqual([
      { namespace: 'AWS/ELB', name: 'HTTPCode_5XX', dimensions: { LoadBalancer: 'lb-1' } },
    ]);
  });

  it('keeps the SNS display region when there is no alarm ARN to read a region code from', () => {
    const body = snsAlarm((m) => {
      delete m['AlarmArn'];
    });
    const alarm = expectAlarm(classifyMessage(body), 'sns');
    expect(alarm.region).toBe('US West (Oregon)');
    expect(alarm.alarmArn).toBeNull();
  });
});

describe('classifyMessage: rejections', () => {
  it('rejects non-JSON with the parse error', () => {
    const reason = rejectionReason(classifyMessage('{"key": "ENG-1",'));
    expect(reason).toMatch(/not valid JSON/);
    expect(reason).toMatch(/\(.+\)/);
  });

  it('rejects an empty body', () => {
    expect(rejectionReason(classifyMessage('   '))).toMatch(/empty/);
  });

  it.each([
    ['[1, 2]', 'array'],
    ['"ENG-1"', 'string'],
    ['null', 'null'],
    ['42', 'number'],
    ['true', 'boolean'],
  ])('rejects JSON %s that is not an object, naming it a %s', (body, kind) => {
    const reason = rejectionReason(classifyMessage(body));
    expect(reason).toMatch(/not an object/);
    expect(reason).toContain(`(got ${kind})`);
  });

  it('rejects an unrecognised shape and lists its keys', () => {
    const reason = rejectionReason(classifyMessage(JSON.stringify({ hello: 'world', answer: 42 })));
    expect(reason).toMatch(/unrecognised message shape/);
    expect(reason).toContain('hello, answer');
  });

  it('rejects a ticket with neither key nor id', () => {
    const body = editedFixture('jira-issue.json', (b) => {
      delete b['key'];
      delete b['id'];
    });
    expect(rejectionReason(classifyMessage(body))).toMatch(/neither a key nor an id/);
  });

  it('rejects a ticket with neither summary nor description text', () => {
    const emptyAdf = { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [] }] };
    const body = JSON.stringify({ key: 'ENG-9', fields: { summary: '', description: emptyAdf } });
    const reason = rejectionReason(classifyMessage(body));
    expect(reason).toMatch(/neither a summary nor description/);
    expect(reason).toContain('ENG-9');
  });

  it('rejects an issue whose fields is not an object', () => {
    expect(rejectionReason(classifyMessage(JSON.stringify({ key: 'ENG-1', fields: 'x' })))).toMatch(/"fields" is not an object \(got string\)/);
  });

  it('rejects an unsupported webhook event, naming it', () => {
    const body = editedFixture('jira-webhook.issue_created.json', (b) => {
      b['webhookEvent'] = 'jira:issue_deleted';
    });
    const reason = rejectionReason(classifyMessage(body));
    expect(reason).toContain('jira:issue_deleted');
    expect(reason).toMatch(/not supported/);
  });

  it('rejects a supported webhook without an issue', () => {
    const reason = rejectionReason(classifyMessage(JSON.stringify({ webhookEvent: 'jira:issue_created' })));
    expect(reason).toMatch(/no issue object \(got undefined\)/);
  });

  it.each([
    ['EventBridge', eventBridgeAlarm((e) => delete e['account'])],
    ['SNS', snsAlarm((m) => delete m['AWSAccountId'])],
  ])('rejects a %s alarm without an account', (_shape, body) => {
    expect(rejectionReason(classifyMessage(body))).toMatch(/no AWS account id/);
  });

  it.each([
    ['EventBridge', eventBridgeAlarm((_e, d) => delete d['state'])],
    ['SNS', snsAlarm((m) => delete m['NewStateValue'])],
  ])('rejects a %s alarm without a state value', (_shape, body) => {
    expect(rejectionReason(classifyMessage(body))).toMatch(/has no state value/);
  });

  it.each([
    ['EventBridge', eventBridgeAlarm((_e, d) => (d['state'] = { value: 'ON_FIRE' }))],
    ['SNS', snsAlarm((m) => (m['NewStateValue'] = 'ON_FIRE'))],
  ])('rejects a %s alarm with an invalid state value, naming it', (_shape, body) => {
    const reason = rejectionReason(classifyMessage(body));
    expect(reason).toMatch(/invalid state value "ON_FIRE"/);
    expect(reason).toContain('ALARM, OK, INSUFFICIENT_DATA');
  });

  it.each([
    ['EventBridge', eventBridgeAlarm((e) => (e['time'] = 'yesterday'))],
    ['SNS', snsAlarm((m) => (m['StateChangeTime'] = '2026-05-12 21:05'))],
  ])('rejects a %s alarm with an unparseable event time', (_shape, body) => {
    expect(rejectionReason(classifyMessage(body))).toMatch(/unparseable event time/);
  });

  it('rejects an alarm whose event time is missing', () => {
    expect(rejectionReason(classifyMessage(eventBridgeAlarm((e) => delete e['time'])))).toMatch(/no event time/);
  });

  it('rejects an alarm without a name', () => {
    expect(rejectionReason(classifyMessage(snsAlarm((m) => delete m['AlarmName']))).replace(/\s+/g, ' ')).toMatch(
      /account 123456789012 has no alarm name/,
    );
  });

  it('rejects EventBridge events that are not alarm state changes, naming the detail-type', () => {
    const body = eventBridgeAlarm((e) => (e['detail-type'] = 'EC2 Instance State-change Notification'));
    expect(rejectionReason(classifyMessage(body))).toContain('"EC2 Instance State-change Notification" is not supported');
  });

  it('rejects SNS with a non-JSON Message', () => {
    const reason = rejectionReason(classifyMessage(snsEnvelope('ALARM: api-high-cpu')));
    expect(reason).toMatch(/SNS notification Message is not valid JSON/);
  });

  it('rejects SNS whose Message is JSON but not an object', () => {
    expect(rejectionReason(classifyMessage(snsEnvelope('[1]')))).toMatch(/SNS notification Message is JSON but not an object \(got array\)/);
  });

  it('rejects SNS with a Message of an unknown shape', () => {
    const reason = rejectionReason(classifyMessage(snsEnvelope({ greeting: 'hi' })));
    expect(reason).toMatch(/SNS notification Message has an unrecognised shape/);
    expect(reason).toContain('greeting');
  });

  it('rejects SNS messages that are not notifications, naming the type', () => {
    const body = JSON.stringify({ Type: 'SubscriptionConfirmation', TopicArn: 'arn:aws:sns:x', Message: 'confirm' });
    expect(rejectionReason(classifyMessage(body))).toContain('"SubscriptionConfirmation" is not a Notification');
  });

  it('does not throw on a pathologically nested description', () => {
    // Built as text: JSON.stringify itself would overflow on an object this deep.
    const depth = 50_000;
    const nested = '{"type":"blockquote","content":['.repeat(depth) + '{"type":"text","text":"deep"}' + ']}'.repeat(depth);
    const body = `{"key":"ENG-1","fields":{"summary":"Deep","description":{"type":"doc","content":[${nested}]}}}`;
    expect(expectTicket(classifyMessage(body), 'jira-issue').summary).toBe('Deep');
  });

  it('never throws, even when called from untyped code with a non-string', () => {
    const untyped = classifyMessage as (body: unknown) => ClassifiedMessage;
    expect(rejectionReason(untyped(undefined))).toMatch(/not a string \(got undefined\)/);
  });
});

describe('classifyMessage: what Postgres could not store', () => {
  const issue = () => JSON.parse(fixture('jira-issue.json')) as { key: string; fields: Record<string, unknown> };

  it('rejects a ticket whose text carries a NUL character', () => {
    const ticket = issue();
    ticket.fields['summary'] = 'Login\u0000 fails';
    expect(rejectionReason(classifyMessage(JSON.stringify(ticket)))).toMatch(/ticket contains a NUL character/);
  });

  it('rejects an alarm whose account carries a NUL character', () => {
    const body = snsAlarm((message) => {
      message['AWSAccountId'] = '1234\u000056789012';
    });
    expect(rejectionReason(classifyMessage(body))).toMatch(/alarm contains a NUL character/);
  });

  it('keeps a ticket that merely mentions the escape sequence as text', () => {
    const ticket = issue();
    ticket.fields['summary'] = 'Strip \\u0000 from uploads';
    expect(expectTicket(classifyMessage(JSON.stringify(ticket)), 'jira-issue').summary).toBe('Strip \\u0000 from uploads');
  });

  it('rejects a ticket key longer than an index entry should hold', () => {
    const ticket = issue();
    ticket.key = `ENG-${'9'.repeat(300)}`;
    expect(rejectionReason(classifyMessage(JSON.stringify(ticket)))).toMatch(/ticket key is 304 characters long; at most 255/);
  });

  it('accepts a key of exactly 255 characters', () => {
    const ticket = issue();
    ticket.key = `E-${'1'.repeat(253)}`;
    expect(expectTicket(classifyMessage(JSON.stringify(ticket)), 'jira-issue').key).toHaveLength(255);
  });
});

describe('classifyMessage: reasons that quote a NUL', () => {
  const webhook = (): Record<string, unknown> => JSON.parse(fixture('jira-webhook.issue_created.json')) as Record<string, unknown>;

  it.each([
    ['webhookEvent', (): string => JSON.stringify({ ...webhook(), webhookEvent: 'jira:issue_created\u0000' }), /Jira webhook event "jira:issue_created\\u0000" is not supported/],
    ['a top-level key', (): string => JSON.stringify({ 'bad\u0000key': 1 }), /top-level keys: bad\\u0000key/],
    [
      'the SNS Type',
      (): string => JSON.stringify({ ...(JSON.parse(fixture('cloudwatch-alarm.sns.json')) as object), Type: 'Noti\u0000fication' }),
      /SNS message of Type "Noti\\u0000fication" is not a Notification/,
    ],
  ])('rejects a NUL in %s with the NUL written as \\u0000', (_, body, reason) => {
    const rejection = rejectionReason(classifyMessage(body()));
    expect(rejection).toMatch(reason);
    expect(rejection).not.toContain('\u0000');
  });

  it('rejects a body holding raw NULs, counting them, since JSON allows none', () => {
    const rejection = rejectionReason(classifyMessage('{"key":"ENG-1",\u0000"fields":\u0000{}}'));
    expect(rejection).toMatch(/^message body holds 2 raw NUL character\(s\) .* escaped as \\u0000$/);
    expect(rejection).not.toContain('\u0000');
  });
});

describe('eventTimeProblem', () => {
  const receivedAt = new Date('2026-05-12T18:00:00.000Z');
  const at = (ms: number): Date => new Date(ms);

  it.each([
    ['the earliest accepted time', EARLIEST_EVENT_TIME.getTime(), null],
    ['a millisecond before it', EARLIEST_EVENT_TIME.getTime() - 1, /event time 1999-12-31T23:59:59\.999Z is outside the accepted range \(before 2000-01-01/],
    ['a day before the delivery', receivedAt.getTime() - MAX_EVENT_TIME_AHEAD_MS, null],
    ['exactly the allowed lead', receivedAt.getTime() + MAX_EVENT_TIME_AHEAD_MS, null],
    ['a millisecond past the allowed lead', receivedAt.getTime() + MAX_EVENT_TIME_AHEAD_MS + 1, /more than 24 h after its delivery at 2026-05-12T18:00:00\.000Z/],
  ])('with the delivery time: %s', (_, time, expected) => {
    const problem = eventTimeProblem(at(time), receivedAt);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('without a delivery time, bounds events by the year 2100', () => {
    expect(eventTimeProblem(new Date('2100-01-01T00:00:00.000Z'))).toBeNull();
    expect(eventTimeProblem(new Date('2100-01-01T00:00:00.001Z'))).toMatch(/after 2100-01-01T00:00:00\.000Z/);
  });

  it('names an invalid date as such', () => {
    expect(eventTimeProblem(new Date(Number.NaN), receivedAt)).toBe('event time is not a valid date');
  });

  it('rejects an alarm dated 9999-12-31, naming the alarm and the range', () => {
    const body = eventBridgeAlarm((event) => {
      event['time'] = '9999-12-31T00:00:00Z';
    });
    expect(rejectionReason(classifyMessage(body, receivedAt))).toBe(
      'alarm api-high-cpu: event time 9999-12-31T00:00:00.000Z is outside the accepted range ' +
        '(before 2000-01-01T00:00:00.000Z or more than 24 h after its delivery at 2026-05-12T18:00:00.000Z)',
    );
    expect(rejectionReason(classifyMessage(body))).toMatch(/after 2100-01-01/);
  });

  it('keeps an alarm a few hours ahead of its delivery (clock skew)', () => {
    expect(expectAlarm(classifyMessage(fixture('cloudwatch-alarm.sns.json'), receivedAt), 'sns').alarmName).toBe('orders-db-free-storage');
  });
});
