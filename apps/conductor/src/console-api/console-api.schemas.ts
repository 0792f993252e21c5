import { DeliveryClassification, JobApproval, JobKind, JobStatus, WorkerState } from '@agent-conductor/db';
import type { SchemaObject } from '@nestjs/swagger';

// Response shapes for the OpenAPI document (/api/docs); the TypeScript types they describe live in
// libs/db's ConsoleQueryRepository and console-read.service.ts.

const string: SchemaObject = { type: 'string' };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const time: SchemaObject = { type: 'string', format: 'date-time' };
const nullableTime: SchemaObject = { type: 'string', format: 'date-time', nullable: true };
const integer: SchemaObject = { type: 'integer' };
const uuid: SchemaObject = { type: 'string', format: 'uuid' };

const object = (properties: Record<string, SchemaObject>, extra: Partial<SchemaObject> = {}): SchemaObject => ({
  type: 'object',
  required: Object.keys(properties),
  properties,
  ...extra,
});

const extend = (base: SchemaObject, properties: Record<string, SchemaObject>, optional: Record<string, SchemaObject> = {}): SchemaObject => ({
  ...base,
  required: [...(base.required ?? []), ...Object.keys(properties)],
  properties: { ...base.properties, ...properties, ...optional },
});

/** The fields every comment on a thread has in the job view (libs/db ConsoleComment), acted on or not. */
const commentProperties = (descriptions: { source: string; commentedAt: string }): Record<string, SchemaObject> => ({
  source: { ...string, description: descriptions.source },
  author: string,
  body: string,
  bodyTruncated: { type: 'boolean' },
  path: { ...nullableString, description: "A review comment's file" },
  line: { ...integer, nullable: true },
  url: nullableString,
  commentedAt: { ...time, description: descriptions.commentedAt },
  deliveryId: uuid,
});

/** `{ items, nextCursor }` of `item`. */
export function pageOf(item: SchemaObject): SchemaObject {
  return object({ items: { type: 'array', items: item }, nextCursor: { ...string, nullable: true, description: 'Pass as `cursor` for the next page; null on the last' } });
}

export const JOB_ITEM: SchemaObject = object({
  id: uuid,
  kind: { type: 'string', enum: Object.values(JobKind) },
  key: { ...string, description: 'Ticket key, or the AWS account of an incident' },
  status: { type: 'string', enum: Object.values(JobStatus) },
  waitingReason: { ...nullableString, description: 'Why a pending job is not running yet' },
  repository: string,
  branch: nullableString,
  attempts: integer,
  createdAt: time,
  startedAt: nullableTime,
  finishedAt: nullableTime,
  durationMs: { ...integer, nullable: true },
  usage: object(
    { inputTokens: integer, cachedInputTokens: integer, outputTokens: integer, turns: integer, model: nullableString, contextReused: { type: 'boolean', description: "A follow-up that resumed the earlier job's agent session" } },
    { nullable: true },
  ),
  pullRequest: nullableString,
  rerunOf: { ...uuid, nullable: true, description: 'The ended job an operator re-ran to create this one' },
  approval: { type: 'string', enum: Object.values(JobApproval), description: "`required`: waits for an operator's approve or reject" },
  cancelRequestedAt: { ...nullableTime, description: 'When an operator asked this launching or running job to stop' },
  followUpOf: { ...uuid, nullable: true, description: "A follow-up job: its thread's first job, whose branch and pull request it continues" },
});

export const JOB_DETAIL: SchemaObject = extend(JOB_ITEM, {
  error: { ...nullableString, description: 'Redacted' },
  result: { type: 'object', nullable: true, description: '{ branch, pullRequest } or { branch, report }' },
  model: nullableString,
  taskMarkdown: string,
  workers: {
    type: 'array',
    items: object({
      id: uuid,
      attempt: integer,
      state: { type: 'string', enum: Object.values(WorkerState) },
      launcher: string,
      launchedAt: nullableTime,
      connectedAt: nullableTime,
      endedAt: nullableTime,
      endReason: nullableString,
      heartbeats: integer,
      lastHeartbeatAt: nullableTime,
    }),
  },
  events: { type: 'array', items: object({ at: time, workerId: uuid, type: string, detail: { nullable: true, description: 'Redacted JSON' } }) },
  eventsTruncated: { type: 'boolean' },
  incidentId: { ...uuid, nullable: true, description: "The job's own incident, the first of `incidents`" },
  incidents: {
    type: 'array',
    description: 'Its own incident, then those of other accounts of its routing group attached to it (at most 100)',
    items: object({ id: uuid, account: string, firstAlarmAt: time, lastAlarmAt: time, alarmCount: integer }),
  },
  incidentsTruncated: { type: 'boolean' },
  repositories: {
    type: 'array',
    description: 'A job over several repositories: each, the first being `repository`, with the branch and pull request of its change (null: unchanged). Empty for one repository',
    items: object({
      name: string,
      url: string,
      branch: { ...string, description: 'The base branch' },
      sparsePaths: { type: 'array', items: string },
      change: object({ branch: string, pullRequest: string }, { nullable: true }),
    }),
  },
  followUpRequests: {
    type: 'array',
    description: 'For a follow-up: the comments it answers, oldest first (at most 100). Bodies are untrusted text, redacted and cut at 8,000 characters',
    items: object({ id: uuid, ...commentProperties({ source: 'github or jira', commentedAt: "The comment's own time" }) }),
  },
  followUpRequestsTruncated: { type: 'boolean' },
  thread: object(
    {
      firstJobId: uuid,
      pullRequest: { ...nullableString, description: "The first job's pull request, which every follow-up pushes to" },
      followUps: {
        type: 'array',
        description: 'Oldest first (at most 100)',
        items: object({ id: uuid, status: { type: 'string', enum: Object.values(JobStatus) }, createdAt: time, finishedAt: nullableTime, pullRequest: nullableString, requests: integer }),
      },
      followUpsTruncated: { type: 'boolean' },
    },
    { nullable: true, description: 'The follow-up thread the job belongs to, as its first job or a follow-up; null when none' },
  ),
  commentsNotActedOn: {
    type: 'array',
    description:
      "Comments on the job's thread that started nothing (refused, not addressed to the agent, already requested), newest first (at most 100); the system's own comments are not listed. Bodies are untrusted text, redacted and cut at 8,000 characters",
    items: object({
      receivedAt: time,
      classification: { type: 'string', enum: [DeliveryClassification.rejected, DeliveryClassification.update], description: '`rejected`: refused; `update`: recorded' },
      reason: { ...nullableString, description: "The scheduler's reason" },
      ...commentProperties({ source: 'github or jira (unknown when the delivery no longer reads as a comment)', commentedAt: "The comment's own time" }),
    }),
  },
  commentsNotActedOnTruncated: { type: 'boolean' },
  report: { ...nullableString, description: 'The ending report (Markdown, redacted) of the newest attempt that uploaded results' },
  transcriptAvailable: { type: 'boolean' },
  actions: {
    type: 'array',
    description: 'What operators did to the job, oldest first',
    items: object({ at: time, action: { type: 'string', enum: ['cancel', 'rerun', 'approve', 'reject'] }, actor: string, detail: { nullable: true, description: '{ step, reason?, rerunJobId? }' } }),
  },
  reruns: { type: 'array', items: uuid, description: 'The jobs re-running this one, oldest first' },
});

/** What POST /api/v1/jobs/:id/{cancel,rerun,approve,reject} answer: the job, and for a re-run the new job. */
export const JOB_ACTION_ANSWER: SchemaObject = {
  ...object({ job: JOB_ITEM }),
  properties: { job: JOB_ITEM, rerun: { ...JOB_ITEM, description: 'Only for rerun: the new job' } },
};

export const INCIDENT_ITEM: SchemaObject = object({
  id: uuid,
  account: string,
  firstAlarmAt: time,
  lastAlarmAt: time,
  alarmCount: integer,
  jobId: uuid,
  jobStatus: { type: 'string', enum: Object.values(JobStatus) },
  createdAt: time,
  windowMinutes: integer,
  capMinutes: integer,
});

export const INCIDENT_DETAIL: SchemaObject = extend(INCIDENT_ITEM, {
  alarms: {
    type: 'array',
    items: object({ id: uuid, at: time, name: string, state: { type: 'string', enum: ['ALARM', 'OK', 'INSUFFICIENT_DATA'] }, region: nullableString, reason: nullableString, deliveryId: uuid }),
  },
});

export const DELIVERY_ITEM: SchemaObject = object({
  id: uuid,
  receivedAt: time,
  classification: { type: 'string', enum: Object.values(DeliveryClassification) },
  rejectionReason: nullableString,
  sqsMessageId: string,
  jobIds: { type: 'array', items: uuid },
});

export const DELIVERY_DETAIL: SchemaObject = extend(DELIVERY_ITEM, { body: { ...string, description: 'The message exactly as delivered' } });

export const WORKER_ITEM: SchemaObject = object({
  id: uuid,
  jobId: uuid,
  attempt: integer,
  state: { type: 'string', enum: Object.values(WorkerState) },
  launcher: string,
  handle: { ...nullableString, description: 'A pid (local) or an ECS task ARN' },
  launchedAt: nullableTime,
  lastHeartbeatAt: time,
  endReason: nullableString,
});

const QUEUE_DEPTH: SchemaObject = object({ visible: integer, inFlight: integer, delayed: integer }, { nullable: true });

export const QUEUES: SchemaObject = object({ intake: QUEUE_DEPTH, dlq: QUEUE_DEPTH, errors: { type: 'array', items: string } });

export const ADMISSION: SchemaObject = object({
  maxActive: integer,
  active: integer,
  claims: { type: 'array', items: object({ claim: string, limit: integer, active: integer, waiting: integer }) },
  waiting: { type: 'array', items: object({ jobId: uuid, claim: string, reason: nullableString, since: time, notBefore: nullableTime }) },
});

export const OVERVIEW: SchemaObject = object({
  active: integer,
  maxActive: integer,
  pending: integer,
  queue: QUEUE_DEPTH,
  dlq: QUEUE_DEPTH,
  queueErrors: { type: 'array', items: string },
  last24h: object({ succeeded: integer, failed: integer, cancelled: integer, successRate: { type: 'number', nullable: true }, medianDurationMs: { ...integer, nullable: true } }),
});
