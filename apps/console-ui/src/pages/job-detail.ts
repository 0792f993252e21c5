import { api, ApiError, type FollowUpRequest, type JobActionName, type JobDetail, type JobItem } from '../api';
import { h, replaceChildren, svg } from '../dom';
import { count, duration, time } from '../format';
import { renderMarkdown } from '../markdown';
import { clearError, definitionList, errorText, link, outsideLink, poll, statusBadge, table, type PageContext } from '../view';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

/** Which buttons make sense now; the API still decides (409 when a transition is no longer allowed). */
export function availableActions(job: Pick<JobItem, 'status' | 'approval'>): JobActionName[] {
  if (ENDED.has(job.status)) return ['rerun'];
  const actions: JobActionName[] = [];
  if (job.approval === 'required' && job.status === 'pending') actions.push('approve', 'reject');
  actions.push('cancel');
  return actions;
}

const ACTION_LABELS: Record<JobActionName, string> = { cancel: 'Cancel', rerun: 'Re-run', approve: 'Approve', reject: 'Reject' };

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

/** Event details can hold a whole result; the table shows the start, the tooltip more. */
function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const LANE = 28;
const WIDTH = 760;
const LEFT = 90;

/** One lane per attempt from launch to end (or now), with the worker's events as ticks on it. */
function attemptTimeline(job: JobDetail): SVGSVGElement | HTMLElement {
  if (job.workers.length === 0) return h('p', { class: 'empty' }, 'No attempt has been launched yet.');
  const now = Date.now();
  const ms = (iso: string | null) => (iso ? new Date(iso).getTime() : NaN);
  const times = [ms(job.createdAt), ...job.workers.flatMap((w) => [ms(w.launchedAt), ms(w.endedAt)]), ...job.events.map((e) => ms(e.at))].filter(Number.isFinite);
  const start = Math.min(...times);
  const end = Math.max(...times, ENDED.has(job.status) ? 0 : now);
  const span = Math.max(end - start, 1000);
  const x = (t: number) => LEFT + ((t - start) / span) * (WIDTH - LEFT - 10);
  const workers = [...job.workers].sort((a, b) => a.attempt - b.attempt);
  const height = workers.length * LANE + 30;
  return svg(
    'svg',
    { class: 'timeline', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `Timeline of ${workers.length} attempt(s)` },
    workers.map((worker, lane) => {
      const y = lane * LANE + 10;
      const from = ms(worker.launchedAt ?? worker.connectedAt) || start;
      const to = ms(worker.endedAt) || now;
      return svg(
        'g',
        { class: `lane lane-${worker.endedAt ? 'ended' : 'live'}` },
        svg('text', { x: 4, y: y + 14, class: 'lane-label' }, `attempt ${worker.attempt}`),
        svg('rect', { x: x(from), y, width: Math.max(2, x(to) - x(from)), height: 18, rx: 3, class: 'attempt-bar' }, svg('title', {}, `${worker.state}${worker.endReason ? `: ${worker.endReason}` : ''}`)),
        job.events
          .filter((event) => event.workerId === worker.id)
          .map((event) =>
            svg('line', { x1: x(ms(event.at)), x2: x(ms(event.at)), y1: y - 2, y2: y + 20, class: `event event-${event.type.replace(/[^a-z_-]/gi, '')}` }, svg('title', {}, `${time(event.at)} ${event.type} ${detailText(event.detail)}`)),
          ),
      );
    }),
    svg('text', { x: LEFT, y: height - 4, class: 'axis-label' }, time(new Date(start).toISOString())),
    svg('text', { x: WIDTH - 10, y: height - 4, class: 'axis-label', 'text-anchor': 'end' }, `+${duration(span)}`),
  );
}

const short = (id: string) => id.slice(0, 8);

/** The thread a job belongs to: its first job, the pull request follow-ups push to, and every follow-up. */
function threadSection(job: JobDetail): HTMLElement | null {
  const thread = job.thread;
  if (!thread) return null;
  return h(
    'section',
    { 'aria-label': 'Follow-up thread' },
    h('h2', {}, 'Follow-up thread'),
    definitionList([
      ['first job', thread.firstJobId === job.id ? 'this job' : h('a', { href: `#/jobs/${thread.firstJobId}`, class: 'thread-first' }, thread.firstJobId)],
      ['pull request', thread.pullRequest ? outsideLink(thread.pullRequest, { class: 'thread-pr' }) : '–'],
    ]),
    table(
      ['follow-up', 'status', 'created', 'finished', 'requests', 'pushed to'],
      thread.followUps.map((followUp) =>
        h(
          'tr',
          { 'data-follow-up-id': followUp.id, class: followUp.id === job.id ? 'current' : '' },
          h('td', {}, followUp.id === job.id ? `${short(followUp.id)} (this job)` : link(`#/jobs/${followUp.id}`, short(followUp.id))),
          h('td', {}, statusBadge(followUp.status)),
          h('td', { class: 'when' }, time(followUp.createdAt)),
          h('td', { class: 'when' }, time(followUp.finishedAt)),
          h('td', { class: 'num', title: followUp.status === 'pending' ? 'waiting for an agent' : '' }, followUp.requests),
          h('td', {}, followUp.pullRequest ? outsideLink(followUp.pullRequest, {}, 'PR') : '–'),
        ),
      ),
      'No follow-up yet.',
    ),
    thread.followUpsTruncated ? h('p', { class: 'empty' }, `Only the first ${thread.followUps.length} follow-ups are listed.`) : null,
  );
}

/** Where a comment points: `file:line` for a review comment on the diff. */
function commentPlace(request: Pick<FollowUpRequest, 'path' | 'line' | 'source'>): string {
  if (!request.path) return request.source === 'jira' ? 'the ticket' : 'the pull request';
  return request.line === null ? request.path : `${request.path}:${request.line}`;
}

/** The comments a follow-up answers. Their bodies are anyone's text: shown as text, never rendered. */
function requestsSection(job: JobDetail): HTMLElement | null {
  if (job.followUpRequests.length === 0) return null;
  return h(
    'section',
    { 'aria-label': 'Follow-up requests' },
    h('h2', {}, `Requests it answers (${job.followUpRequests.length}${job.followUpRequestsTruncated ? '+' : ''})`),
    job.followUpRequests.map((request) =>
      h(
        'article',
        { class: 'follow-up-request', 'data-request-id': request.id },
        h(
          'p',
          { class: 'request-head' },
          h('span', { class: 'tag' }, request.source),
          ' ',
          h('strong', { class: 'request-author' }, request.author),
          ' on ',
          h('code', { class: 'request-place' }, commentPlace(request)),
          ` · ${time(request.commentedAt)}`,
          request.url ? [' · ', outsideLink(request.url, { class: 'request-link' }, 'open')] : null,
          ' · ',
          link(`#/deliveries/${request.deliveryId}`, 'delivery'),
        ),
        h('pre', { class: 'request-body' }, request.body),
        request.bodyTruncated ? h('p', { class: 'empty' }, 'Cut here; the whole comment is in the delivery.') : null,
      ),
    ),
  );
}

/**
 * The thread's comments that started nothing, each with the scheduler's reason: what answers "why did my comment do
 * nothing?". Like the requests, the bodies are anyone's text, shown as text.
 */
export function notActedOnSection(job: Pick<JobDetail, 'commentsNotActedOn' | 'commentsNotActedOnTruncated'>): HTMLElement | null {
  if (job.commentsNotActedOn.length === 0) return null;
  return h(
    'section',
    { 'aria-label': 'Comments not acted on' },
    h('h2', {}, `Comments not acted on (${job.commentsNotActedOn.length}${job.commentsNotActedOnTruncated ? '+' : ''})`),
    job.commentsNotActedOn.map((comment) =>
      h(
        'article',
        { class: 'follow-up-request not-acted-on', 'data-delivery-id': comment.deliveryId },
        h(
          'p',
          { class: 'request-head' },
          h('span', { class: 'tag' }, comment.source),
          h('span', { class: 'tag', title: comment.classification === 'rejected' ? 'refused by the follow-up rules' : 'recorded; it starts nothing' }, comment.classification === 'rejected' ? 'refused' : 'recorded'),
          ' ',
          h('strong', { class: 'request-author' }, comment.author),
          ' on ',
          h('code', { class: 'request-place' }, commentPlace(comment)),
          ` · ${time(comment.commentedAt)}`,
          comment.url ? [' · ', outsideLink(comment.url, { class: 'request-link' }, 'open')] : null,
          ' · ',
          link(`#/deliveries/${comment.deliveryId}`, 'delivery'),
        ),
        h('p', { class: 'not-acted-on-reason' }, comment.reason ?? 'no reason was stored'),
        h('pre', { class: 'request-body' }, comment.body),
        comment.bodyTruncated ? h('p', { class: 'empty' }, 'Cut here; the whole comment is in the delivery.') : null,
      ),
    ),
    job.commentsNotActedOnTruncated ? h('p', { class: 'empty' }, `Only the latest ${job.commentsNotActedOn.length} are listed; the rest are in the deliveries.`) : null,
  );
}

function repositoriesSection(job: JobDetail): HTMLElement | null {
  if (job.repositories.length === 0) return null;
  return h(
    'section',
    { 'aria-label': 'Repositories' },
    h('h2', {}, `Repositories (${job.repositories.length})`),
    table(
      ['name', 'repository', 'base', 'sparse paths', 'changed on', 'pull request'],
      job.repositories.map((repository, index) =>
        h(
          'tr',
          { 'data-repository': repository.name },
          h('td', {}, repository.name, index === 0 ? h('span', { class: 'tag' }, 'primary') : null),
          h('td', { class: 'repo', title: repository.url }, repository.url),
          h('td', {}, repository.branch),
          h('td', {}, repository.sparsePaths.join(', ') || 'all'),
          h('td', {}, repository.change ? h('code', {}, repository.change.branch) : 'unchanged'),
          h('td', {}, repository.change ? outsideLink(repository.change.pullRequest, { class: 'repository-pr' }) : '–'),
        ),
      ),
      '',
    ),
  );
}

function incidentsSection(job: JobDetail): HTMLElement | null {
  if (job.incidents.length === 0) return null;
  return h(
    'section',
    { 'aria-label': 'Incidents' },
    h('h2', {}, job.incidents.length > 1 ? `Incidents across ${job.incidents.length} accounts` : 'Incident'),
    table(
      ['incident', 'account', 'first alarm', 'last alarm', 'alarms'],
      job.incidents.map((incident, index) =>
        h(
          'tr',
          { 'data-incident-id': incident.id },
          h('td', {}, link(`#/incidents/${incident.id}`, short(incident.id)), index === 0 ? h('span', { class: 'tag', title: "the job's own incident" }, 'own') : h('span', { class: 'tag', title: 'attached from another account of the routing group' }, 'attached')),
          h('td', {}, incident.account),
          h('td', { class: 'when' }, time(incident.firstAlarmAt)),
          h('td', { class: 'when' }, time(incident.lastAlarmAt)),
          h('td', { class: 'num' }, incident.alarmCount),
        ),
      ),
      '',
    ),
    job.incidentsTruncated ? h('p', { class: 'empty' }, `Only the first ${job.incidents.length} incidents are listed.`) : null,
  );
}

export function jobDetailPage(ctx: PageContext): void {
  const id = ctx.params['id'] ?? '';
  const summary = h('div');
  const notice = h('p', { class: 'notice', role: 'status' });
  const buttons = h('div', { class: 'buttons' });
  const reason = h('input', { id: 'action-reason', name: 'reason', placeholder: 'optional', size: 30 });
  const timeline = h('div');
  const events = h('div');
  const audit = h('div');
  const report = h('div', { class: 'markdown' });
  const transcript = h('pre', { class: 'transcript' });
  const transcriptDetails = h('details', { class: 'transcript-details' }, h('summary', {}, 'Transcript'), transcript);
  const task = h('pre', { class: 'task' });
  const related = h('div', { class: 'related' });
  let shownReport: string | null | undefined;
  let shownRelated: string | undefined;
  let current: JobDetail | undefined;

  transcriptDetails.addEventListener('toggle', () => {
    if (!transcriptDetails.open || transcript.dataset['loaded']) return;
    transcript.textContent = 'loading…';
    api.transcript(id).then(
      (text) => {
        transcript.textContent = text;
        transcript.dataset['loaded'] = 'true';
      },
      (error: unknown) => {
        transcript.textContent = error instanceof ApiError && error.status === 404 ? 'No transcript was stored for this job.' : errorText(error);
      },
    );
  });

  async function act(action: JobActionName): Promise<void> {
    for (const button of buttons.querySelectorAll('button')) button.disabled = true;
    try {
      const outcome = await api.act(id, action, reason.value.trim() || undefined);
      reason.value = '';
      if (outcome.rerun) {
        location.hash = `#/jobs/${outcome.rerun.id}`;
        return;
      }
      // Every action answers { job } (and a re-run its new job too): docs/console.md.
      notice.textContent = `${ACTION_LABELS[action]}: done, the job is ${outcome.job.status}.`;
    } catch (error) {
      notice.textContent = `${ACTION_LABELS[action]} refused: ${errorText(error)}`;
    }
    await refresh();
  }

  function renderJob(job: JobDetail): void {
    current = job;
    replaceChildren(
      summary,
      h('h1', {}, `${job.kind} ${job.key} `, statusBadge(job.status)),
      job.waitingReason ? h('p', { class: 'waiting' }, `Waiting: ${job.waitingReason}`) : null,
      job.error ? h('p', { class: 'job-error', role: 'alert' }, job.error) : null,
      definitionList([
        ['id', h('code', {}, job.id)],
        ['repository', job.branch ? `${job.repository} (${job.branch})` : job.repository],
        ['model', job.model ?? 'default'],
        ['pull request', job.pullRequest ? h('a', { href: job.pullRequest, rel: 'noopener noreferrer', target: '_blank', class: 'pr-link' }, job.pullRequest) : '–'],
        ['attempts', job.attempts],
        ['created', time(job.createdAt)],
        ['started', time(job.startedAt)],
        ['finished', time(job.finishedAt)],
        ['duration', duration(job.durationMs)],
        ['tokens', job.usage ? `${count(job.usage.inputTokens)} input (${count(job.usage.cachedInputTokens)} cached) · ${count(job.usage.outputTokens)} output${job.usage.contextReused ? ' · context reused' : ''}` : '–'],
        ['turns', job.usage ? job.usage.turns : '–'],
        ['approval', job.approval ?? 'none'],
        ['re-run of', job.rerunOf ? link(`#/jobs/${job.rerunOf}`, job.rerunOf) : '–'],
        ['follow-up of', job.followUpOf ? h('a', { href: `#/jobs/${job.followUpOf}`, class: 'follow-up-of' }, job.followUpOf) : '–'],
        ['re-runs', job.reruns?.length ? job.reruns.map((rerun) => [link(`#/jobs/${rerun}`, rerun.slice(0, 8)), ' ']) : '–'],
      ]),
    );
    const wanted = availableActions(job).join(',');
    if (buttons.dataset['actions'] !== wanted) {
      buttons.dataset['actions'] = wanted;
      replaceChildren(
        buttons,
        availableActions(job).map((action) => h('button', { type: 'button', class: `action action-${action}`, onclick: () => void act(action) }, ACTION_LABELS[action])),
      );
    }
    // Comments can be long: rebuilt only when something in them changed, not on every poll.
    const relatedKey = JSON.stringify([job.thread, job.followUpRequests, job.commentsNotActedOn, job.repositories, job.incidents]);
    if (relatedKey !== shownRelated) {
      shownRelated = relatedKey;
      replaceChildren(related, incidentsSection(job), repositoriesSection(job), threadSection(job), requestsSection(job), notActedOnSection(job));
    }
    replaceChildren(timeline, attemptTimeline(job));
    replaceChildren(
      events,
      table(
        ['at', 'attempt', 'event', 'detail'],
        job.events.map((event) =>
          h('tr', {}, h('td', { class: 'when' }, time(event.at)), h('td', {}, job.workers.find((w) => w.id === event.workerId)?.attempt ?? ''), h('td', {}, event.type), h('td', { class: 'detail', title: detailText(event.detail).slice(0, 4000) }, shorten(detailText(event.detail), 240))),
        ),
        'No worker events yet.',
      ),
    );
    replaceChildren(
      audit,
      table(['at', 'action', 'by', 'detail'], (job.actions ?? []).map((a) => h('tr', {}, h('td', {}, time(a.at)), h('td', {}, a.action), h('td', {}, a.actor), h('td', {}, detailText(a.detail)))), 'No actions taken.'),
    );
    if (job.report !== shownReport) {
      shownReport = job.report;
      replaceChildren(report, job.report ? renderMarkdown(job.report) : h('p', { class: 'empty' }, 'No ending report yet.'));
    }
    transcriptDetails.hidden = !job.transcriptAvailable;
    task.textContent = job.taskMarkdown ?? '';
  }

  async function refresh(): Promise<void> {
    renderJob(await api.job(id));
    clearError(ctx);
  }

  ctx.view.replaceChildren(
    h('p', {}, link('#/jobs', '← jobs')),
    summary,
    h('section', { 'aria-label': 'Actions', class: 'actions' }, h('label', { for: 'action-reason' }, 'Reason'), reason, buttons, notice),
    related,
    h('section', { 'aria-label': 'Attempts' }, h('h2', {}, 'Attempts'), timeline, events),
    h('section', { 'aria-label': 'Ending report' }, h('h2', {}, 'Ending report'), report),
    transcriptDetails,
    h('details', {}, h('summary', {}, 'TASK.md'), task),
    h('section', { 'aria-label': 'Audit' }, h('h2', {}, 'Actions taken'), audit),
  );
  // Fast while the job can still change, slow once it has ended.
  let lastPass = 0;
  poll(ctx, 2000, async () => {
    if (current && ENDED.has(current.status) && Date.now() - lastPass < 10000) return;
    lastPass = Date.now();
    await refresh();
  });
}
