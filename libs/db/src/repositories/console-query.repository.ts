import { Injectable } from '@nestjs/common';
import { DeliveryClassification, JobApproval, JobKind, JobStatus, Prisma, PrismaClient, WorkerState, type AlarmState } from '../generated/prisma/client';
import { classifyMessage } from '@agent-conductor/scheduling-domain';
import { toStatusResult, toStatusUsage, type StatusJobResult, type StatusJobUsage } from './status.repository';

/** Rejected by the console's read model: a bad cursor or filter (HTTP 400), never a server fault. */
export class ConsoleQueryError extends Error {
  constructor(
    readonly code: 'invalid-cursor',
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleQueryError';
  }
}

export const CONSOLE_PAGE_MAX = 200;
export const CONSOLE_PAGE_DEFAULT = 50;

export interface PageRequest {
  /** 1..CONSOLE_PAGE_MAX. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

interface Keyset {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque to callers; a keyset on (time, id), newest first, so rows arriving meanwhile never shift a page. */
export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(JSON.stringify([keyset.at.toISOString(), keyset.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ConsoleQueryError('invalid-cursor', 'cursor is not one this API returned');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw new ConsoleQueryError('invalid-cursor', 'cursor is not one this API returned');
  const [at, id] = parsed as unknown[];
  const time = typeof at === 'string' ? new Date(at) : undefined;
  if (!time || Number.isNaN(time.getTime()) || typeof id !== 'string' || !UUID.test(id)) {
    throw new ConsoleQueryError('invalid-cursor', 'cursor is not one this API returned');
  }
  return { at: time, id };
}

/** Rows strictly after the cursor in (time desc, id desc) order: `where` builds the model's condition. */
function after<W>(cursor: string | undefined, where: (at: Date, id: string) => W): W[] {
  if (cursor === undefined) return [];
  const { at, id } = decodeCursor(cursor);
  return [where(at, id)];
}

function page<R extends { id: string }, T>(rows: R[], limit: number, time: (row: R) => Date, toItem: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(toItem),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: time(last), id: last.id }) : null,
  };
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

// ---- jobs ----

export interface ConsoleJobFilter {
  status?: JobStatus | undefined;
  kind?: JobKind | undefined;
  repository?: string | undefined;
  key?: string | undefined;
}

export type ConsoleJobUsage = Omit<StatusJobUsage, 'durationMs'>;

export interface ConsoleJobItem {
  id: string;
  kind: JobKind;
  key: string;
  status: JobStatus;
  /** Why a pending job is not running yet, as admission last saw it. */
  waitingReason: string | null;
  repository: string;
  branch: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** finishedAt − startedAt of an ended job. */
  durationMs: number | null;
  usage: ConsoleJobUsage | null;
  pullRequest: string | null;
  /** The ended job an operator re-ran to create this one. */
  rerunOf: string | null;
  approval: JobApproval;
  /** When an operator asked this launching or running job to stop (it ends `cancelled`). */
  cancelRequestedAt: string | null;
  /** A follow-up job: the first job of its thread, whose branch and pull request it continues. */
  followUpOf: string | null;
}

export interface ConsoleWorkerAttempt {
  id: string;
  attempt: number;
  state: WorkerState;
  launcher: string;
  launchedAt: string | null;
  connectedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  /** Heartbeats are counted, not listed: a long job sends thousands. */
  heartbeats: number;
  lastHeartbeatAt: string | null;
}

export interface ConsoleWorkerEvent {
  at: string;
  workerId: string;
  type: string;
  detail: Prisma.JsonValue;
}

export interface ConsoleJobDetail extends ConsoleJobItem {
  error: string | null;
  result: StatusJobResult | null;
  /** The agent's model, from its usage report (null: its default, or no report yet). */
  model: string | null;
  taskMarkdown: string;
  workers: ConsoleWorkerAttempt[];
  /** The attempts' events but heartbeats, oldest first (at most CONSOLE_EVENT_LIMIT, the latest ones). */
  events: ConsoleWorkerEvent[];
  eventsTruncated: boolean;
  /** The newest attempt whose results were uploaded: where the report and transcript are read from. */
  resultsFrom: { workerId: string; attempt: number } | null;
  /** The job's own incident (the first of `incidents`). */
  incidentId: string | null;
  /** Its own incident, then those of other accounts of its routing group attached to it (at most CONSOLE_RELATED_LIMIT). */
  incidents: ConsoleJobIncident[];
  incidentsTruncated: boolean;
  /** The repositories of a job over several (jobs.repositories, the first being `repository`); empty for one. */
  repositories: ConsoleJobRepository[];
  /** For a follow-up: the comments it answers, oldest first (at most CONSOLE_RELATED_LIMIT). */
  followUpRequests: ConsoleFollowUpRequest[];
  followUpRequestsTruncated: boolean;
  /** The follow-up thread the job belongs to, as its first job or as a follow-up; null when it has none. */
  thread: ConsoleJobThread | null;
  /** Comments on the job's thread that started nothing, newest first (at most CONSOLE_RELATED_LIMIT). */
  commentsNotActedOn: ConsoleThreadComment[];
  commentsNotActedOnTruncated: boolean;
  /** What operators did to the job (cancel, rerun, approve, reject), oldest first. */
  actions: ConsoleJobAction[];
  /** The jobs re-running this one, oldest first. */
  reruns: string[];
}

export interface ConsoleJobIncident {
  id: string;
  account: string;
  firstAlarmAt: string;
  lastAlarmAt: string;
  alarmCount: number;
}

export interface ConsoleJobRepository {
  name: string;
  url: string;
  /** The base branch the job starts from. */
  branch: string;
  sparsePaths: string[];
  /** What the agent changed there, from the result's `changes`: its branch and pull request; null: unchanged (or not ended). */
  change: { branch: string; pullRequest: string } | null;
}

/** A person's comment on a thread, as the console shows it: acted on (a follow-up request) or not. */
export interface ConsoleComment {
  /** github | jira; `unknown` when a delivery's body no longer reads as a comment (the delivery still holds it). */
  source: string;
  author: string;
  /** The comment's text as it arrived, cut at CONSOLE_COMMENT_CHARS: untrusted, shown as text. */
  body: string;
  bodyTruncated: boolean;
  /** A review comment's file and line. */
  path: string | null;
  line: number | null;
  url: string | null;
  /** The comment's own time at its source (the delivery's, for an unreadable body). */
  commentedAt: string;
  deliveryId: string;
}

export interface ConsoleFollowUpRequest extends ConsoleComment {
  id: string;
}

/**
 * A comment on a thread that the scheduler did not act on (deliveries.thread_job_id): refused, not addressed to the
 * agent, or already requested. What it says is read again from its delivery's body with the scheduler's own parser.
 */
export interface ConsoleThreadComment extends ConsoleComment {
  receivedAt: string;
  /** `rejected` (refused), or `update` (recorded: not addressed, already requested). */
  classification: DeliveryClassification;
  /** The scheduler's reason, as stored on the delivery. */
  reason: string | null;
}

export interface ConsoleThreadJob {
  id: string;
  status: JobStatus;
  createdAt: string;
  finishedAt: string | null;
  pullRequest: string | null;
  /** The comments it answers: those of a pending follow-up still wait for an agent. */
  requests: number;
}

export interface ConsoleJobThread {
  firstJobId: string;
  /** The first job's pull request: the one every follow-up of the thread pushes to. */
  pullRequest: string | null;
  /** The thread's follow-ups, oldest first (at most CONSOLE_RELATED_LIMIT). */
  followUps: ConsoleThreadJob[];
  followUpsTruncated: boolean;
}

export interface ConsoleJobAction {
  at: string;
  action: string;
  actor: string;
  detail: Prisma.JsonValue;
}

export const CONSOLE_EVENT_LIMIT = 500;
/** A job's incidents, follow-up requests and thread's follow-ups are each listed up to this many. */
export const CONSOLE_RELATED_LIMIT = 100;
/** A comment can be 65,536 characters on GitHub; a page of them would be megabytes. */
export const CONSOLE_COMMENT_CHARS = 8_000;
const HEARTBEAT = 'heartbeat';
const RESULTS_UPLOADED = 'results-uploaded';

type JobRow = Prisma.JobGetPayload<object>;

function toJobItem(job: JobRow): ConsoleJobItem {
  const usage = toStatusUsage(job.usage);
  const result = toStatusResult(job.result);
  // jobs.pull_request is the result's, copied at Shutdown; rows ended before that column existed have only the result.
  const pullRequest = job.pullRequest ?? (result && 'pullRequest' in result && typeof result.pullRequest === 'string' ? result.pullRequest : null);
  return {
    id: job.id,
    kind: job.kind,
    key: job.key,
    status: job.status,
    waitingReason: job.status === 'pending' ? job.waitingReason : null,
    repository: job.repository,
    branch: job.branch,
    attempts: job.attempts,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    // finishedAt is set only when a job ends, whatever its final status.
    durationMs: job.startedAt && job.finishedAt ? job.finishedAt.getTime() - job.startedAt.getTime() : null,
    usage: usage
      ? { inputTokens: usage.inputTokens, cachedInputTokens: usage.cachedInputTokens, outputTokens: usage.outputTokens, turns: usage.turns, model: usage.model, contextReused: usage.contextReused }
      : null,
    pullRequest,
    rerunOf: job.rerunOfId,
    approval: job.approval,
    cancelRequestedAt: iso(job.cancelRequestedAt),
    followUpOf: job.followUpOfId,
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The repositories column with each one's change from the result. Read leniently: the launch refuses an unusable
 * column with its problems in `error`, and the console still shows what it can of it.
 */
function toJobRepositories(repositories: Prisma.JsonValue | null, result: Prisma.JsonValue | null): ConsoleJobRepository[] {
  const changes = new Map<string, { branch: string; pullRequest: string }>();
  const reported = isObject(result) ? result['changes'] : undefined;
  for (const change of Array.isArray(reported) ? reported : []) {
    if (isObject(change) && typeof change['name'] === 'string' && typeof change['branch'] === 'string' && typeof change['pullRequest'] === 'string') {
      changes.set(change['name'], { branch: change['branch'], pullRequest: change['pullRequest'] });
    }
  }
  if (!Array.isArray(repositories)) return [];
  return repositories.flatMap((entry) => {
    if (!isObject(entry)) return [];
    const name = typeof entry['name'] === 'string' ? entry['name'] : '';
    const sparsePaths = entry['sparsePaths'];
    return [{
      name,
      url: typeof entry['url'] === 'string' ? entry['url'] : '',
      branch: typeof entry['branch'] === 'string' ? entry['branch'] : '',
      sparsePaths: Array.isArray(sparsePaths) ? sparsePaths.filter((path): path is string => typeof path === 'string') : [],
      change: changes.get(name) ?? null,
    }];
  });
}

// ---- incidents, deliveries, workers ----

export interface ConsoleIncidentItem {
  id: string;
  account: string;
  /** Event time of the first and the latest ALARM. */
  firstAlarmAt: string;
  lastAlarmAt: string;
  alarmCount: number;
  jobId: string;
  jobStatus: JobStatus;
  createdAt: string;
}

export interface ConsoleAlarm {
  id: string;
  /** The alarm's own event time. */
  at: string;
  name: string;
  state: AlarmState;
  region: string | null;
  reason: string | null;
  deliveryId: string;
}

export interface ConsoleIncidentDetail extends ConsoleIncidentItem {
  alarms: ConsoleAlarm[];
}

export interface ConsoleDeliveryItem {
  id: string;
  receivedAt: string;
  classification: DeliveryClassification;
  rejectionReason: string | null;
  sqsMessageId: string;
  jobIds: string[];
}

export interface ConsoleDeliveryDetail extends ConsoleDeliveryItem {
  /** The message body exactly as delivered. */
  body: string;
}

export interface ConsoleWorkerItem {
  id: string;
  jobId: string;
  attempt: number;
  state: WorkerState;
  launcher: string;
  /** A pid (local) or an ECS task ARN. */
  handle: string | null;
  launchedAt: string | null;
  /** Any event counts: the worker was heard from then. */
  lastHeartbeatAt: string;
  endReason: string | null;
}

// ---- admission and overview ----

export interface ConsoleClaimUse {
  claim: string;
  /** The largest route limit stored on the claim's jobs; null: the conductor's default applies. */
  limit: number | null;
  active: number;
  waiting: number;
}

export interface ConsoleWaitingJob {
  jobId: string;
  claim: string;
  reason: string | null;
  /** When the job was decided. */
  since: string;
  /** A retried job waits for this time before admission considers it. */
  notBefore: string | null;
}

export interface ConsoleAdmissionFacts {
  active: number;
  claims: ConsoleClaimUse[];
  waiting: ConsoleWaitingJob[];
}

export interface ConsoleJobStats {
  active: number;
  pending: number;
  succeeded: number;
  failed: number;
  /** Ended by an operator (cancelled, or rejected at approval) in the window. */
  cancelled: number;
  /** Median finishedAt − startedAt of the jobs that succeeded or failed in the window; null when none did. */
  medianDurationMs: number | null;
}

/**
 * The operator console's read model. Every method reads one RepeatableRead snapshot and narrows the JSON columns;
 * nothing here writes.
 */
@Injectable()
export class ConsoleQueryRepository {
  // A plain client, so tools and tests can pass their own; DbModule passes PrismaService.
  constructor(private readonly prisma: PrismaClient) {}

  async jobs(filter: ConsoleJobFilter, request: PageRequest): Promise<Page<ConsoleJobItem>> {
    const rows = await this.prisma.job.findMany({
      where: {
        AND: [
          ...(filter.status ? [{ status: filter.status }] : []),
          ...(filter.kind ? [{ kind: filter.kind }] : []),
          ...(filter.repository ? [{ repository: filter.repository }] : []),
          ...(filter.key ? [{ key: filter.key }] : []),
          ...after<Prisma.JobWhereInput>(request.cursor, (at, id) => ({ OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] })),
        ],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: request.limit + 1,
    });
    return page(rows, request.limit, (row) => row.createdAt, toJobItem);
  }

  async job(id: string): Promise<ConsoleJobDetail | null> {
    if (!UUID.test(id)) return null;
    // One snapshot: the thread's follow-ups are looked up by the job's own follow_up_of, so the reads are sequential.
    const read = await this.prisma.$transaction(
      async (tx) => {
        const job = await tx.job.findUnique({
          where: { id },
          include: {
            workers: { orderBy: [{ attempt: 'asc' }] },
            // The job's own incident comes first; later ones are other accounts' attached to it (incident groups).
            incidents: {
              select: { id: true, account: true, firstEventAt: true, lastEventAt: true, alarmCount: true },
              orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
              take: CONSOLE_RELATED_LIMIT + 1,
            },
            actions: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
            reruns: { select: { id: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
            followUpRequests: { orderBy: [{ commentedAt: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }], take: CONSOLE_RELATED_LIMIT + 1 },
            followUpOf: { select: { pullRequest: true } },
          },
        });
        if (!job) return null;
        const events = await tx.workerEvent.findMany({
          where: { worker: { jobId: id }, type: { not: HEARTBEAT } },
          orderBy: [{ at: 'desc' }, { id: 'desc' }],
          take: CONSOLE_EVENT_LIMIT + 1,
        });
        const heartbeats = await tx.workerEvent.groupBy({
          by: ['workerId'],
          where: { worker: { jobId: id }, type: HEARTBEAT },
          _count: { _all: true },
          _max: { at: true },
          orderBy: { workerId: 'asc' },
        });
        // The thread's first job is the one without follow_up_of: this job, or the one it follows up.
        const threadId = job.followUpOfId ?? job.id;
        const followUps = await tx.job.findMany({
          where: { followUpOfId: threadId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take: CONSOLE_RELATED_LIMIT + 1,
          select: { id: true, status: true, createdAt: true, finishedAt: true, pullRequest: true },
        });
        const requestCounts =
          followUps.length === 0
            ? []
            : await tx.followUpRequest.groupBy({
                by: ['followUpJobId'],
                where: { followUpJobId: { in: followUps.slice(0, CONSOLE_RELATED_LIMIT).map((followUp) => followUp.id) } },
                _count: { _all: true },
                orderBy: { followUpJobId: 'asc' },
              });
        const notActedOn = await tx.delivery.findMany({
          where: { threadJobId: threadId },
          orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
          take: CONSOLE_RELATED_LIMIT + 1,
          select: { id: true, receivedAt: true, classification: true, rejectionReason: true, body: true },
        });
        return { job, events, heartbeats, threadId, followUps, requestCounts, notActedOn };
      },
      { isolationLevel: 'RepeatableRead' },
    );
    if (!read) return null;
    const { job, events, heartbeats, threadId, followUps, requestCounts, notActedOn } = read;
    const beats = new Map(heartbeats.map((row) => [row.workerId, row]));
    const requests = new Map(requestCounts.map((row) => [row.followUpJobId, row._count._all]));
    const uploaded = await this.prisma.workerEvent.findFirst({
      where: { worker: { jobId: id }, type: RESULTS_UPLOADED },
      orderBy: [{ worker: { attempt: 'desc' } }, { at: 'desc' }],
      select: { worker: { select: { id: true, attempt: true } } },
    });
    const usage = toStatusUsage(job.usage);
    const incidents = job.incidents.slice(0, CONSOLE_RELATED_LIMIT);
    const item = toJobItem(job);
    return {
      ...item,
      error: job.error,
      result: toStatusResult(job.result),
      model: usage?.model ?? null,
      taskMarkdown: job.taskMarkdown,
      workers: job.workers.map((worker) => {
        const beat = beats.get(worker.id);
        return {
          id: worker.id,
          attempt: worker.attempt,
          state: worker.state,
          launcher: worker.launcher,
          launchedAt: iso(worker.launchedAt),
          connectedAt: iso(worker.handshakeAt),
          endedAt: iso(worker.endedAt),
          endReason: worker.endReason,
          heartbeats: beat?._count._all ?? 0,
          lastHeartbeatAt: iso(beat?._max.at ?? null),
        };
      }),
      events: events
        .slice(0, CONSOLE_EVENT_LIMIT)
        .reverse()
        .map((event) => ({ at: event.at.toISOString(), workerId: event.workerId, type: event.type, detail: event.detail })),
      eventsTruncated: events.length > CONSOLE_EVENT_LIMIT,
      resultsFrom: uploaded ? { workerId: uploaded.worker.id, attempt: uploaded.worker.attempt } : null,
      incidentId: incidents[0]?.id ?? null,
      incidents: incidents.map((incident) => ({
        id: incident.id,
        account: incident.account,
        firstAlarmAt: incident.firstEventAt.toISOString(),
        lastAlarmAt: incident.lastEventAt.toISOString(),
        alarmCount: incident.alarmCount,
      })),
      incidentsTruncated: job.incidents.length > CONSOLE_RELATED_LIMIT,
      // A follow-up copies the first job's repositories but works on the one whose pull request it continues, and
      // reports no `changes` (docs/multi-repository.md): listing them all as unchanged would mislead.
      repositories: job.followUpOfId === null ? toJobRepositories(job.repositories, job.result) : [],
      followUpRequests: job.followUpRequests.slice(0, CONSOLE_RELATED_LIMIT).map((request) => ({
        id: request.id,
        source: request.source,
        author: request.author,
        body: request.body.slice(0, CONSOLE_COMMENT_CHARS),
        bodyTruncated: request.body.length > CONSOLE_COMMENT_CHARS,
        path: request.path,
        line: request.line,
        url: request.url,
        commentedAt: request.commentedAt.toISOString(),
        deliveryId: request.deliveryId,
      })),
      followUpRequestsTruncated: job.followUpRequests.length > CONSOLE_RELATED_LIMIT,
      thread:
        job.followUpOfId === null && followUps.length === 0
          ? null
          : {
              firstJobId: threadId,
              pullRequest: job.followUpOf ? job.followUpOf.pullRequest : item.pullRequest,
              followUps: followUps.slice(0, CONSOLE_RELATED_LIMIT).map((followUp) => ({
                id: followUp.id,
                status: followUp.status,
                createdAt: followUp.createdAt.toISOString(),
                finishedAt: iso(followUp.finishedAt),
                pullRequest: followUp.pullRequest,
                requests: requests.get(followUp.id) ?? 0,
              })),
              followUpsTruncated: followUps.length > CONSOLE_RELATED_LIMIT,
            },
      commentsNotActedOn: notActedOn.slice(0, CONSOLE_RELATED_LIMIT).map(toThreadComment),
      commentsNotActedOnTruncated: notActedOn.length > CONSOLE_RELATED_LIMIT,
      actions: job.actions.map((action) => ({ at: action.at.toISOString(), action: action.action, actor: action.actor, detail: action.detail })),
      reruns: job.reruns.map((rerun) => rerun.id),
    };
  }

  /** One job as the list shows it (what an action answers with); null for an unknown id. */
  async jobItem(id: string): Promise<ConsoleJobItem | null> {
    if (!UUID.test(id)) return null;
    const job = await this.prisma.job.findUnique({ where: { id } });
    return job ? toJobItem(job) : null;
  }

  async incidents(request: PageRequest): Promise<Page<ConsoleIncidentItem>> {
    const rows = await this.prisma.incident.findMany({
      where: { AND: after<Prisma.IncidentWhereInput>(request.cursor, (at, id) => ({ OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] })) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: request.limit + 1,
      include: { job: { select: { status: true } } },
    });
    return page(rows, request.limit, (row) => row.createdAt, toIncidentItem);
  }

  async incident(id: string): Promise<ConsoleIncidentDetail | null> {
    if (!UUID.test(id)) return null;
    const row = await this.prisma.incident.findUnique({
      where: { id },
      include: { job: { select: { status: true } }, alarms: { orderBy: [{ eventTime: 'asc' }, { id: 'asc' }] } },
    });
    if (!row) return null;
    return {
      ...toIncidentItem(row),
      alarms: row.alarms.map((alarm) => ({
        id: alarm.id,
        at: alarm.eventTime.toISOString(),
        name: alarm.alarmName,
        state: alarm.state,
        region: alarm.region,
        reason: alarm.reason,
        deliveryId: alarm.deliveryId,
      })),
    };
  }

  async deliveries(filter: { rejected?: boolean | undefined }, request: PageRequest): Promise<Page<ConsoleDeliveryItem>> {
    const rows = await this.prisma.delivery.findMany({
      where: {
        AND: [
          ...(filter.rejected === true ? [{ classification: DeliveryClassification.rejected }] : []),
          ...(filter.rejected === false ? [{ classification: { not: DeliveryClassification.rejected } }] : []),
          ...after<Prisma.DeliveryWhereInput>(request.cursor, (at, id) => ({ OR: [{ receivedAt: { lt: at } }, { receivedAt: at, id: { lt: id } }] })),
        ],
      },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: request.limit + 1,
      omit: { body: true },
      include: { jobs: { select: { id: true }, orderBy: { createdAt: 'asc' } } },
    });
    return page(rows, request.limit, (row) => row.receivedAt, toDeliveryItem);
  }

  async delivery(id: string): Promise<ConsoleDeliveryDetail | null> {
    if (!UUID.test(id)) return null;
    const row = await this.prisma.delivery.findUnique({ where: { id }, include: { jobs: { select: { id: true }, orderBy: { createdAt: 'asc' } } } });
    return row ? { ...toDeliveryItem(row), body: row.body } : null;
  }

  async workers(filter: { active?: boolean | undefined }, request: PageRequest): Promise<Page<ConsoleWorkerItem>> {
    const rows = await this.prisma.worker.findMany({
      where: {
        AND: [
          ...(filter.active === true ? [{ state: { not: WorkerState.ended } }] : []),
          ...(filter.active === false ? [{ state: WorkerState.ended }] : []),
          ...after<Prisma.WorkerWhereInput>(request.cursor, (at, id) => ({ OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] })),
        ],
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: request.limit + 1,
      omit: { tokenHash: true },
    });
    return page(rows, request.limit, (row) => row.createdAt, (worker) => ({
      id: worker.id,
      jobId: worker.jobId,
      attempt: worker.attempt,
      state: worker.state,
      launcher: worker.launcher,
      handle: worker.launcherHandle,
      launchedAt: iso(worker.launchedAt),
      lastHeartbeatAt: worker.lastEventAt.toISOString(),
      endReason: worker.endReason,
    }));
  }

  /** Active jobs per claim and the line of pending jobs, in one snapshot (the key is COALESCE(claim_key, repository), as admission reads it). */
  async admission(): Promise<ConsoleAdmissionFacts> {
    const [claims, waiting] = await this.prisma.$transaction(
      [
        this.prisma.$queryRaw<Array<{ claim: string; limit: number | null; active: bigint; waiting: bigint }>>`
          SELECT COALESCE(j."claim_key", j."repository") AS "claim",
                 MAX(j."claim_limit") AS "limit",
                 COUNT(*) FILTER (WHERE j."status" IN ('launching', 'running')) AS "active",
                 COUNT(*) FILTER (WHERE j."status" = 'pending') AS "waiting"
            FROM "jobs" j
           WHERE j."status" IN ('pending', 'launching', 'running')
           GROUP BY 1
           ORDER BY 1`,
        this.prisma.job.findMany({
          where: { status: JobStatus.pending },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          select: { id: true, claimKey: true, repository: true, waitingReason: true, createdAt: true, nextAttemptAt: true },
        }),
      ],
      { isolationLevel: 'RepeatableRead' },
    );
    const uses = claims.map((row) => ({ claim: row.claim, limit: row.limit, active: Number(row.active), waiting: Number(row.waiting) }));
    return {
      active: uses.reduce((sum, use) => sum + use.active, 0),
      claims: uses,
      waiting: waiting.map((job) => ({
        jobId: job.id,
        claim: job.claimKey ?? job.repository,
        reason: job.waitingReason,
        since: job.createdAt.toISOString(),
        notBefore: iso(job.nextAttemptAt),
      })),
    };
  }

  /** Counts now, and the jobs that ended since `since`. */
  async jobStats(since: Date): Promise<ConsoleJobStats> {
    // One statement, so one snapshot; each part reads through an index (status, finished_at), never the whole table.
    // A cancelled job's duration says when an operator stopped it, not how long an agent takes, so the median
    // leaves it out.
    const rows = await this.prisma.$queryRaw<Array<{ active: bigint; pending: bigint; succeeded: bigint; failed: bigint; cancelled: bigint; median: number | null }>>`
      SELECT (SELECT COUNT(*) FROM "jobs" WHERE "status" IN ('launching', 'running')) AS "active",
             (SELECT COUNT(*) FROM "jobs" WHERE "status" = 'pending') AS "pending",
             COUNT(*) FILTER (WHERE e."status" = 'succeeded') AS "succeeded",
             COUNT(*) FILTER (WHERE e."status" = 'failed') AS "failed",
             COUNT(*) FILTER (WHERE e."status" = 'cancelled') AS "cancelled",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (e."finished_at" - e."started_at")) * 1000)
               FILTER (WHERE e."started_at" IS NOT NULL AND e."status" IN ('succeeded', 'failed')) AS "median"
        FROM "jobs" e
       WHERE e."finished_at" >= ${since} AND e."status" IN ('succeeded', 'failed', 'cancelled')`;
    const row = rows[0];
    return {
      active: Number(row?.active ?? 0),
      pending: Number(row?.pending ?? 0),
      succeeded: Number(row?.succeeded ?? 0),
      failed: Number(row?.failed ?? 0),
      cancelled: Number(row?.cancelled ?? 0),
      medianDurationMs: row?.median === null || row?.median === undefined ? null : Math.round(Number(row.median)),
    };
  }
}

function toThreadComment(row: { id: string; receivedAt: Date; classification: DeliveryClassification; rejectionReason: string | null; body: string }): ConsoleThreadComment {
  // The scheduler linked the delivery because this same parser read a comment in it; the body is the only copy.
  const classified = classifyMessage(row.body, row.receivedAt);
  const comment = classified.classification === 'update' && classified.update.kind === 'comment' ? classified.update.comment : null;
  const body = comment?.body ?? '';
  return {
    deliveryId: row.id,
    receivedAt: row.receivedAt.toISOString(),
    classification: row.classification,
    reason: row.rejectionReason,
    source: comment?.source ?? 'unknown',
    author: comment?.author ?? 'unknown',
    body: body.slice(0, CONSOLE_COMMENT_CHARS),
    bodyTruncated: body.length > CONSOLE_COMMENT_CHARS,
    path: comment?.path ?? null,
    line: comment?.line ?? null,
    url: comment?.url ?? null,
    commentedAt: (comment?.commentedAt ?? row.receivedAt).toISOString(),
  };
}

function toIncidentItem(row: Prisma.IncidentGetPayload<{ include: { job: { select: { status: true } } } }>): ConsoleIncidentItem {
  return {
    id: row.id,
    account: row.account,
    firstAlarmAt: row.firstEventAt.toISOString(),
    lastAlarmAt: row.lastEventAt.toISOString(),
    alarmCount: row.alarmCount,
    jobId: row.jobId,
    jobStatus: row.job.status,
    createdAt: row.createdAt.toISOString(),
  };
}

function toDeliveryItem(row: Omit<Prisma.DeliveryGetPayload<{ include: { jobs: { select: { id: true } } } }>, 'body'>): ConsoleDeliveryItem {
  return {
    id: row.id,
    receivedAt: row.receivedAt.toISOString(),
    classification: row.classification,
    rejectionReason: row.rejectionReason,
    sqsMessageId: row.sqsMessageId,
    jobIds: row.jobs.map((job) => job.id),
  };
}
