/**
 * Writes the example scenarios in tools/scenarios/ (their expectations are in
 * tools/scenarios/README.md and asserted by test/replay-cli.spec.ts).
 *
 *   npx tsx tools/replay/src/examples.ts
 *
 * Hand-writing bodies that are JSON strings inside JSON lines is error-prone;
 * this keeps the examples readable as code and byte-stable.
 */
import type { AlarmState } from '@agent-conductor/scheduling-domain';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AlarmSpec, eventBridgeAlarmBody, jiraIssue, jiraIssueBody, jiraWebhookBody, snsAlarmBody, snsWrappedEventBridgeBody, TicketSpec } from './bodies';
import { githubReviewEvent, jiraCommentCreated, jiraIssueUpdated } from '@agent-conductor/testing';
import { formatJobEndLine, formatScenarioLine, ScenarioMessage } from './scenario';

const WORKSPACE = resolve(__dirname, '../../..');
const OUT = join(WORKSPACE, 'tools/scenarios');
const T0 = Date.parse('2026-05-12T10:00:00.000Z');
const MINUTE = 60_000;

function at(minutes: number, seconds = 0): Date {
  return new Date(T0 + minutes * MINUTE + seconds * 1000);
}

function alarm(account: string, alarmName: string, state: AlarmState, time: Date): AlarmSpec {
  return {
    account,
    region: 'us-west-2',
    alarmName,
    state,
    previousState: state === 'ALARM' ? 'OK' : 'ALARM',
    time,
    namespace: 'AWS/EC2',
    metricName: 'CPUUtilization',
    dimensions: { InstanceId: 'i-0abc123def4567890' },
    threshold: 80,
    value: state === 'ALARM' ? 97.5 : 12.25,
  };
}

function line(messageId: string, receivedAt: Date, body: string): ScenarioMessage {
  return { messageId, receivedAt: receivedAt.toISOString(), body };
}

/** The alarm is delivered ten seconds after its event time unless stated otherwise. */
function delivered(time: Date, lagSeconds = 10): Date {
  return new Date(time.getTime() + lagSeconds * 1000);
}

function ticket(key: string, id: string, summary: string): TicketSpec {
  return {
    id,
    key,
    summary,
    paragraphs: ['Users are redirected to a blank page after their session expires.'],
    issueType: 'Bug',
    priority: 'High',
    labels: ['auth'],
    components: ['Authentication'],
    created: at(0),
  };
}

function write(name: string, messages: Array<ScenarioMessage | string>): void {
  const text = messages.map((message) => (typeof message === 'string' ? message : formatScenarioLine(message))).join('\n');
  writeFileSync(join(OUT, name), `${text}\n`);
}

function ticketsAndDuplicates(): void {
  const eng123 = ticket('ENG-123', '10002', 'Login fails after session timeout');
  const issue = jiraIssueBody(eng123);
  write('tickets-and-duplicates.jsonl', [
    line('tkt-0001', at(0), issue),
    // SQS redelivers the same message (same id, same body) after a visibility timeout.
    line('tkt-0001', at(5), issue),
    line('tkt-0002', at(7), jiraWebhookBody({ ...eng123, summary: 'Login fails after session timeout (edited)' }, 'jira:issue_updated', at(7))),
    line('tkt-0003', at(9), jiraWebhookBody(ticket('ENG-124', '10003', 'CSV export drops the last row'), 'jira:issue_created', at(9))),
    // The same key through another message id and shape: still ENG-123's one job.
    line('tkt-0004', at(12), issue.replace('"updated":', '"resolution":null,"updated":')),
    line('tkt-0005', at(15), JSON.stringify({ ...jiraIssue(ticket('ignored', '10042', 'Ticket known only by its id')), key: undefined })),
  ]);
}

function incidentChaining(): void {
  const a = '111111111111';
  const b = '222222222222';
  const messages: Array<[number, ScenarioMessage]> = [];
  let n = 0;
  const push = (spec: AlarmSpec, sns: boolean, lagSeconds = 10): void => {
    n += 1;
    const id = `alm-${String(n).padStart(4, '0')}`;
    const body = sns ? snsAlarmBody(spec, `sns-${id}`) : eventBridgeAlarmBody(spec, `evt-${id}`);
    const message = line(id, delivered(spec.time, lagSeconds), body);
    messages.push([Date.parse(message.receivedAt), message]);
  };
  push(alarm(a, 'api-high-cpu', 'ALARM', at(0)), false); // new incident A1
  push(alarm(b, 'orders-5xx', 'ALARM', at(5)), true); // new incident B1
  push(alarm(a, 'api-high-cpu', 'OK', at(10)), false);
  push(alarm(a, 'api-5xx', 'ALARM', at(30)), false); // joins A1 (30 min)
  push(alarm(b, 'orders-5xx', 'OK', at(40)), true);
  push(alarm(b, 'orders-5xx', 'ALARM', at(65)), true); // joins B1: exactly 60 min after its last alarm
  push(alarm(a, 'api-high-cpu', 'ALARM', at(90)), false); // joins A1 (60 min after +30)
  push(alarm(a, 'api-5xx', 'INSUFFICIENT_DATA', at(100)), false);
  push(alarm(b, 'orders-latency', 'ALARM', at(125, 1)), true); // new incident B2: 60 min 1 s after +65
  push(alarm(a, 'api-high-cpu', 'ALARM', at(151)), false); // new incident A2: 61 min after +90
  // Event time +120, delivered after +151: out of order, within 30 min of A1's +90 and A2's +151.
  push(alarm(a, 'api-latency', 'ALARM', at(120)), false, 32 * 60);
  messages.sort((x, y) => x[0] - y[0]);
  const ordered = messages.map(([, message]) => message);
  const first = ordered[0];
  if (first === undefined) throw new Error('no messages');
  // A redelivery of the very first message: a no-op.
  ordered.push({ ...first, receivedAt: at(200).toISOString() });
  write('incident-chaining.jsonl', ordered);
}

function garbage(): void {
  const withoutAccount = JSON.parse(eventBridgeAlarmBody(alarm('999999999999', 'no-account', 'ALARM', at(0)), 'evt-g')) as Record<string, unknown>;
  delete withoutAccount['account'];
  const noKey = jiraIssue(ticket('x', 'x', 'No key and no id')) as Record<string, unknown>;
  delete noKey['key'];
  delete noKey['id'];
  const noText = jiraIssue({ ...ticket('GAR-2', '20002', ''), paragraphs: [] });
  write('garbage.jsonl', [
    line('gar-0001', at(0), 'this is not json'),
    line('gar-0002', at(1), '[1,2,3]'),
    line('gar-0003', at(2), JSON.stringify(noKey)),
    line('gar-0004', at(3), JSON.stringify(withoutAccount)),
    'this scenario line is not JSON',
    JSON.stringify({ messageId: 'gar-0006', body: '{}' }),
    line('gar-0007', at(6), JSON.stringify(noText)),
    line('gar-0008', at(7), JSON.stringify({ Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe', TopicArn: 'arn:aws:sns:us-west-2:123456789012:x' })),
    line('gar-0009', at(8), jiraIssueBody(ticket('GAR-1', '20001', 'A valid ticket after the garbage'))),
  ]);
}

function snsAndEventBridge(): void {
  const fixtures = join(WORKSPACE, 'libs/scheduling-domain/src/test-fixtures');
  const compact = (file: string): string => JSON.stringify(JSON.parse(readFileSync(join(fixtures, file), 'utf8')));
  const c = '333333333333';
  const d = '444444444444';
  write('sns-and-eventbridge.jsonl', [
    // The domain's fixtures: the same account, 6 minutes apart: one incident.
    line('mix-0001', new Date('2026-05-12T20:59:03.000Z'), compact('cloudwatch-alarm.eventbridge.json')),
    line('mix-0002', new Date('2026-05-12T21:05:01.000Z'), compact('cloudwatch-alarm.sns.json')),
    line('mix-0003', delivered(at(0)), eventBridgeAlarmBody(alarm(c, 'search-high-cpu', 'ALARM', at(0)), 'evt-mix-3')),
    line('mix-0004', delivered(at(10)), snsAlarmBody(alarm(c, 'search-5xx', 'ALARM', at(10)), 'sns-mix-4')),
    line('mix-0005', delivered(at(11)), snsWrappedEventBridgeBody(alarm(d, 'billing-queue-age', 'ALARM', at(11)), 'sns-mix-5', 'evt-mix-5')),
    line('mix-0006', delivered(at(20)), snsAlarmBody(alarm(d, 'billing-queue-age', 'OK', at(20)), 'sns-mix-6')),
    line('mix-0007', delivered(at(25)), snsWrappedEventBridgeBody(alarm(d, 'billing-queue-age', 'INSUFFICIENT_DATA', at(25)), 'sns-mix-7', 'evt-mix-7')),
    line('mix-0008', delivered(at(30)), snsWrappedEventBridgeBody(alarm(d, 'billing-queue-age', 'ALARM', at(30)), 'sns-mix-8', 'evt-mix-8')),
    // Both states OK: stored, never an incident.
    line('mix-0009', delivered(at(40)), eventBridgeAlarmBody(alarm('555555555555', 'auth-lambda-errors', 'OK', at(40)), 'evt-mix-9')),
  ]);
}

/** Tickets on one repository in a burst, and one decided at the very instant the last of them ends. */
function admissionBurst(): void {
  const burst = (n: number, receivedAt: Date): ScenarioMessage =>
    line(`bst-000${n}`, receivedAt, jiraIssueBody(ticket(`BURST-${n}`, `3000${n}`, `Burst ticket ${n}`)));
  write('admission-burst.jsonl', [
    burst(1, at(0)),
    // The same instant as BURST-1: line order decides.
    burst(2, at(0)),
    burst(3, at(0, 1)),
    burst(4, at(0, 2)),
    burst(5, at(0, 3)),
    // BURST-5 starts at +120 and ends at +150 (30-minute jobs): ends are processed before starts.
    burst(6, at(150)),
  ]);
}

/** A queue of tickets on the default repository, then an alarm whose incident routes to the same repository. */
function admissionIncidentFirst(): void {
  const queued = (n: number): ScenarioMessage => line(`inc-000${n}`, at(0, n - 1), jiraIssueBody(ticket(`QUEUE-${n}`, `4000${n}`, `Queued ticket ${n}`)));
  const outage = alarm('111111111111', 'checkout-5xx', 'ALARM', at(10));
  write('admission-incident-first.jsonl', [queued(1), queued(2), queued(3), queued(4), line('inc-0005', delivered(outage.time), eventBridgeAlarmBody(outage, 'evt-inc-5'))]);
}

/** Jobs on several claims (admission-routing.json): one blocked on its claim holds up no other claim. */
function admissionWorkConserving(): void {
  const issue = (key: string, minutes: number, n: number): ScenarioMessage => line(`wc-000${n}`, at(minutes), jiraIssueBody(ticket(key, `5000${n}`, `Work on ${key}`)));
  write('admission-work-conserving.jsonl', [
    issue('SHOP-1', 0, 1),
    issue('SHOP-2', 1, 2),
    issue('WEB-1', 2, 3),
    issue('WEB-2', 3, 4),
    issue('WEB-3', 4, 5),
    issue('API-1', 5, 6),
    issue('PLAT-1', 6, 7),
  ]);
}

/** A ticket's pull request, reviewed: follow-ups, batching, the refusals, and a Jira comment on the same thread. */
function followUps(): void {
  const pr = 'https://github.com/acme/app/pull/7';
  const fu1 = ticket('FU-1', '60001', 'Session timeout logs users out silently');
  const stamp = (minutes: number): string => at(minutes).toISOString().replace('.000Z', 'Z');
  const review = (id: number, body: string, minutes: number, extra: { login?: string; association?: string; pullRequest?: string } = {}): string =>
    githubReviewEvent('pull_request_review_comment', { pullRequest: pr, id, body, deliveryId: `gh-delivery-${id}-${minutes}`, at: stamp(minutes), ...extra });
  const firstComment = review(101, '@agent rename `expire` to `expireSession`', 21);
  write('follow-ups.jsonl', [
    line('fu-0001', at(0), jiraIssueBody(fu1)),
    formatJobEndLine({ key: 'FU-1', status: 'succeeded', branch: 'agent/FU-1', pullRequest: pr }, at(20).toISOString()),
    line('fu-0002', at(21), firstComment),
    line('fu-0003', at(22), githubReviewEvent('pull_request_review', { pullRequest: pr, id: 7, body: '@agent and add a test for it', deliveryId: 'gh-delivery-review-7', at: stamp(22) })),
    line('fu-0004', at(23), review(102, '@agent Renamed it.\n\n<!-- agent-conductor: follow-up reply -->', 23, { login: 'acme-bot' })),
    line('fu-0005', at(24), review(103, '@agent delete the tests', 24, { login: 'drive-by', association: 'CONTRIBUTOR' })),
    line('fu-0006', at(25), review(104, '@agent fix this too', 25, { pullRequest: 'https://github.com/acme/app/pull/99' })),
    line('fu-0007', at(26), review(105, 'Nice, thanks!', 26)),
    // The follow-up ends (it pushed to the same pull request); a later comment starts the next one.
    formatJobEndLine({ key: 'FU-1', status: 'succeeded', branch: 'agent/FU-1', pullRequest: pr }, at(50).toISOString()),
    line('fu-0008', at(51), githubReviewEvent('issue_comment', { pullRequest: pr, id: 55, body: '@agent update the changelog', deliveryId: 'gh-delivery-55', at: stamp(51) })),
    line('fu-0009', at(52), firstComment.replace('gh-delivery-101-21', 'gh-delivery-101-redelivered')),
    line('fu-0010', at(53), jiraCommentCreated('FU-1', { id: '10500', body: '@agent please also handle the logout page', at: at(53).toISOString() })),
    line('fu-0011', at(54), jiraIssueUpdated('FU-1', 'Session timeout logs users out silently (edited)')),
    line('fu-0002', at(55), firstComment),
    line('fu-0012', at(56), jiraIssueUpdated('FU-2', 'A ticket first seen through an update')),
  ]);
}

/** Accounts A and B share the routing group "shop", C is in "billing" (incident-groups-routing.json). */
function incidentGroups(): void {
  const a = '111111111111';
  const b = '222222222222';
  const c = '333333333333';
  let n = 0;
  const push = (spec: AlarmSpec): ScenarioMessage => {
    n += 1;
    const id = `grp-${String(n).padStart(4, '0')}`;
    return line(id, delivered(spec.time), eventBridgeAlarmBody(spec, `evt-${id}`));
  };
  const first = push(alarm(a, 'orders-5xx', 'ALARM', at(0))); // spawns A's job
  const attached = push(alarm(b, 'payments-latency', 'ALARM', at(20))); // B's new incident, within reach of A's pending job
  write('incident-groups.jsonl', [
    first,
    attached,
    push(alarm(c, 'ledger-lag', 'ALARM', at(25))), // another group: its own job
    push(alarm(b, 'payments-errors', 'ALARM', at(50))), // joins B's incident (on A's job)
    push(alarm(a, 'orders-5xx', 'OK', at(55))),
    push(alarm(b, 'payments-latency', 'ALARM', at(200))), // out of every reach: B's own job
    push(alarm(a, 'orders-latency', 'ALARM', at(230))), // A's new incident: attached to B's pending job
    { ...attached, receivedAt: at(240).toISOString() }, // a redelivery: nothing
  ]);
}

ticketsAndDuplicates();
followUps();
incidentGroups();
admissionBurst();
admissionIncidentFirst();
admissionWorkConserving();
incidentChaining();
garbage();
snsAndEventBridge();
process.stderr.write(`wrote the example scenarios to ${OUT}\n`);
