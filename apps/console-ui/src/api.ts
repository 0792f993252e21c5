// The console's view of the conductor's HTTP API (/api/v1, OpenAPI at /api/docs). Same-origin fetches carry the
// session cookie; unsafe methods add the header the CSRF check asks for.

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type JobStatus = 'pending' | 'launching' | 'running' | 'succeeded' | 'failed' | 'cancelled' | string;

export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  turns: number;
  /** A follow-up that resumed the earlier job's agent session (docs/context-reuse.md). */
  contextReused?: boolean;
}

export interface JobItem {
  id: string;
  kind: string;
  key: string;
  status: JobStatus;
  waitingReason: string | null;
  repository: string;
  branch: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  usage: Usage | null;
  pullRequest: string | null;
  /** The job this one re-runs (operator actions). */
  rerunOf?: string | null;
  approval?: 'none' | 'required' | 'approved' | 'rejected';
  /** A follow-up job: its thread's first job. */
  followUpOf?: string | null;
}

export interface JobWorker {
  id: string;
  attempt: number;
  state: string;
  launcher: string;
  launchedAt: string | null;
  connectedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  heartbeats: number;
  lastHeartbeatAt: string | null;
}

export interface JobEvent {
  at: string;
  workerId: string;
  type: string;
  detail: unknown;
}

export interface JobAction {
  at: string;
  action: string;
  actor: string;
  detail: unknown;
}

export interface JobDetail extends JobItem {
  error: string | null;
  result: unknown;
  model: string | null;
  taskMarkdown: string;
  workers: JobWorker[];
  events: JobEvent[];
  eventsTruncated: boolean;
  incidentId: string | null;
  report: string | null;
  transcriptAvailable: boolean;
  /** Operator actions on the job, oldest first, and the jobs that re-run it. */
  actions?: JobAction[];
  reruns?: string[];
  /** Its own incident first, then other accounts' attached to it. */
  incidents: JobIncident[];
  incidentsTruncated: boolean;
  /** Empty for a job on one repository. */
  repositories: JobRepository[];
  /** The comments a follow-up answers: untrusted text. */
  followUpRequests: FollowUpRequest[];
  followUpRequestsTruncated: boolean;
  thread: JobThread | null;
  /** Comments on the job's thread that started nothing, newest first: untrusted text. */
  commentsNotActedOn: ThreadComment[];
  commentsNotActedOnTruncated: boolean;
}

export interface JobIncident {
  id: string;
  account: string;
  firstAlarmAt: string;
  lastAlarmAt: string;
  alarmCount: number;
}

export interface JobRepository {
  name: string;
  url: string;
  branch: string;
  sparsePaths: string[];
  change: { branch: string; pullRequest: string } | null;
}

/** A person's comment on a thread: a follow-up request, or one not acted on. Untrusted text. */
export interface ThreadCommentBase {
  source: string;
  author: string;
  body: string;
  bodyTruncated: boolean;
  path: string | null;
  line: number | null;
  url: string | null;
  commentedAt: string;
  deliveryId: string;
}

export interface FollowUpRequest extends ThreadCommentBase {
  id: string;
}

export interface ThreadComment extends ThreadCommentBase {
  receivedAt: string;
  /** `rejected`: refused; `update`: recorded (not addressed, already requested). */
  classification: string;
  reason: string | null;
}

export interface JobThread {
  firstJobId: string;
  pullRequest: string | null;
  followUps: { id: string; status: JobStatus; createdAt: string; finishedAt: string | null; pullRequest: string | null; requests: number }[];
  followUpsTruncated: boolean;
}

export interface IncidentItem {
  id: string;
  account: string;
  /** Event time of the first and the latest ALARM. */
  firstAlarmAt: string;
  lastAlarmAt: string;
  alarmCount: number;
  jobId: string;
  jobStatus: string;
  createdAt: string;
  /** The incident policy in force: how close an ALARM must be to join, and the longest first-to-last span. */
  windowMinutes: number;
  capMinutes: number;
}

export interface Alarm {
  id: string;
  at: string;
  name: string;
  state: string;
  region: string | null;
  reason: string | null;
  deliveryId: string;
}

export interface IncidentDetail extends IncidentItem {
  alarms: Alarm[];
}

export interface DeliveryItem {
  id: string;
  receivedAt: string;
  classification: string;
  rejectionReason: string | null;
  sqsMessageId: string;
  jobIds: string[];
}

export interface DeliveryDetail extends DeliveryItem {
  body: string;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface Overview {
  active: number;
  maxActive: number;
  pending: number;
  queue: QueueDepth | null;
  dlq: QueueDepth | null;
  /** Why a depth could not be read (SQS unreachable, no permission). */
  queueErrors: string[];
  last24h: { succeeded: number; failed: number; cancelled: number; successRate: number | null; medianDurationMs: number | null };
}

export interface Admission {
  maxActive: number;
  active: number;
  claims: { claim: string; limit: number; active: number; waiting: number }[];
  waiting: { jobId: string; claim: string; reason: string | null; since: string; notBefore: string | null }[];
}

export type JobActionName = 'cancel' | 'rerun' | 'approve' | 'reject';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-requested-with'] = 'console';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    // The session expired or was never there: back to the login page, then here again.
    location.assign(`/login?next=${encodeURIComponent(location.hash)}`);
    throw new ApiError(401, 'not signed in');
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text || res.statusText;
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
      else if (Array.isArray(parsed.message)) message = parsed.message.join('; ');
    } catch {
      // Not JSON: the text is the message.
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

async function json<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return (await (await request(method, path, body)).json()) as T;
}

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '' && value !== false) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const api = {
  overview: () => json<Overview>('GET', '/api/v1/overview'),
  admission: () => json<Admission>('GET', '/api/v1/admission'),
  jobs: (filters: Record<string, string | number | undefined>) => json<Page<JobItem>>('GET', `/api/v1/jobs${query(filters)}`),
  job: (id: string) => json<JobDetail>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`),
  transcript: async (id: string) => (await request('GET', `/api/v1/jobs/${encodeURIComponent(id)}/transcript`)).text(),
  act: (id: string, action: JobActionName, reason?: string) =>
    json<{ job: JobItem; rerun?: JobItem }>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/${action}`, reason ? { reason } : {}),
  incidents: (filters: Record<string, string | number | undefined>) => json<Page<IncidentItem>>('GET', `/api/v1/incidents${query(filters)}`),
  incident: (id: string) => json<IncidentDetail>('GET', `/api/v1/incidents/${encodeURIComponent(id)}`),
  deliveries: (filters: Record<string, string | number | boolean | undefined>) => json<Page<DeliveryItem>>('GET', `/api/v1/deliveries${query(filters)}`),
  delivery: (id: string) => json<DeliveryDetail>('GET', `/api/v1/deliveries/${encodeURIComponent(id)}`),
  logout: () => request('DELETE', '/api/v1/session'),
};
