import { parseAwsTimestamp } from './aws-time';
import { flattenAdf } from './adf';
import { GITHUB_WEBHOOK_EVENTS, isGitHubWebhookEvent } from './github';
import { parseJiraWebhook } from './jira';
import { describeJsonType, fail, isRecord, JsonRecord, nonEmptyString, ok, Parsed, record, truncate } from './json';
import { TicketFacts } from './types';

/**
 * Follow-ups (docs/follow-ups.md): a comment on a pull request the system opened, or on a ticket whose job made a
 * branch, that addresses the agent starts a follow-up job on that branch. These are the pure rules: what an update
 * message says, and what the scheduler does with it once it has looked the thread up.
 */

/** Where a thread lives: the pull request (its html URL), or the Jira ticket (its key). */
export type ThreadRef = { kind: 'pull-request'; url: string } | { kind: 'ticket'; key: string };

/** A new comment that may ask the agent for more work. */
export interface UpdateComment {
  source: 'github' | 'jira';
  /** Unique at its source: `github:issue-comment:<id>`, `github:review:<id>`, `github:review-comment:<id>`, `jira:comment:<id>`. */
  externalId: string;
  thread: ThreadRef;
  /** GitHub login, or the Jira display name. */
  author: string;
  /** Further names the author goes by (the Jira account id and email), for recognising the system's own comments. */
  authorAliases: string[];
  /** GitHub's author_association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE…); null for Jira. */
  authorAssociation: string | null;
  /** The comment's text as it arrived (a review may have none: ''). */
  body: string;
  /** Review comments on a diff: the file and the line (`line`, else `original_line` for an outdated diff). */
  path: string | null;
  line: number | null;
  /** Where a human reads the comment. */
  url: string | null;
  commentedAt: Date;
  /** GitHub only: the pull request's state when the event was sent; null for Jira. */
  pullRequestState: 'open' | 'closed' | 'merged' | null;
}

/**
 * An update message, read: a comment to decide on, or a notice that is only recorded (a ping, an edit, an issue
 * update). A `jira:issue_updated` notice carries its ticket, so a ticket never seen before is still taken as a ticket.
 */
export type UpdateFacts =
  | { kind: 'comment'; event: string; comment: UpdateComment }
  | { kind: 'notice'; event: string; source: 'github' | 'jira'; thread: ThreadRef | null; reason: string; ticket?: TicketFacts };

export interface FollowUpPolicy {
  /** A comment addresses the agent when, trimmed, it starts with this (case-insensitive), then whitespace or its end. */
  mention: string;
  /** The GitHub logins (and Jira names) the system posts as: their comments never start anything. */
  systemLogins: readonly string[];
}

export const DEFAULT_FOLLOW_UP_MENTION = '@agent';
export const DEFAULT_FOLLOW_UP_POLICY: FollowUpPolicy = { mention: DEFAULT_FOLLOW_UP_MENTION, systemLogins: [] };

/** The worker's replies on a pull request carry this HTML comment; a body holding it is the system talking. */
export const WORKER_REPLY_MARKER = '<!-- agent-conductor:';
/** Every Jira comment the conductor posts ends with this line (docs/jira.md). */
export const JIRA_REPORT_MARKER = 'agent-conductor report: job';

/** Associations that come with write access to the repository. */
export const WRITE_ASSOCIATIONS: readonly string[] = ['OWNER', 'MEMBER', 'COLLABORATOR'];

const JIRA_UPDATE_EVENTS: readonly string[] = ['jira:issue_updated', 'comment_created'];

export function isJiraUpdateEvent(event: unknown): boolean {
  return typeof event === 'string' && JIRA_UPDATE_EVENTS.includes(event);
}

/** Why a mention or login list cannot be used, or null. */
export function followUpPolicyProblems(policy: FollowUpPolicy): string[] {
  const problems: string[] = [];
  if (!/^\S+$/.test(policy.mention)) problems.push('follow-up mention must be one word without whitespace');
  for (const login of policy.systemLogins) {
    if (!/^\S+$/.test(login)) problems.push(`follow-up system login "${truncate(login, 60)}" must be one word without whitespace`);
  }
  return problems;
}

/** Whether the comment addresses the agent: its trimmed body starts with the mention, then whitespace or its end. */
export function addressesAgent(body: string, mention: string): boolean {
  const text = body.trimStart();
  if (text.length < mention.length || text.slice(0, mention.length).toLowerCase() !== mention.toLowerCase()) return false;
  const next = text.charAt(mention.length);
  return next === '' || /\s/.test(next);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the messages

/** A GitHub envelope from the ingress (docs/github-webhooks.md): a comment, a notice, or why it is malformed. */
export function parseGitHubUpdate(body: JsonRecord): Parsed<UpdateFacts> {
  const header = body['githubWebhook'];
  if (!isRecord(header)) return fail(`github event: envelope githubWebhook is not an object (got ${describeJsonType(header)})`);
  const { event, deliveryId } = header;
  if (typeof event !== 'string' || !isGitHubWebhookEvent(event)) {
    return fail(
      `github event: event ${typeof event === 'string' ? `"${truncate(event, 60)}"` : describeJsonType(event)} is not one the ingress accepts (${GITHUB_WEBHOOK_EVENTS.join(', ')})`,
    );
  }
  if (typeof deliveryId !== 'string' || deliveryId === '') return fail(`github event: ${event} has no delivery id (got ${describeJsonType(deliveryId)})`);
  const payload = body['payload'];
  if (!isRecord(payload)) return fail(`github event: ${event} payload is not an object (got ${describeJsonType(payload)})`);
  const notice = (reason: string, thread: ThreadRef | null = null): Parsed<UpdateFacts> =>
    ok({ kind: 'notice', event, source: 'github', thread, reason: `github ${event}: ${reason}` });
  if (event === 'ping') return notice('GitHub\'s test delivery; recorded, it starts nothing');

  const action = payload['action'];
  if (event === 'issue_comment') {
    const issue = record(payload['issue']);
    const pull = issue['pull_request'];
    if (action !== 'created') return notice(`action ${describeAction(action)} is recorded only; new comments (created) are read`);
    if (!isRecord(pull)) return notice('a comment on an issue, not on a pull request; recorded, it starts nothing');
    const url = nonEmptyString(pull['html_url']) ?? nonEmptyString(issue['html_url']);
    if (url === null) return fail('github issue_comment: the pull request has no html_url');
    return githubComment(event, 'issue-comment', payload['comment'], 'created_at', url, issue['state'] === 'closed' ? 'closed' : 'open');
  }

  const pull = record(payload['pull_request']);
  const url = nonEmptyString(pull['html_url']);
  if (url === null) return fail(`github ${event}: pull_request.html_url is missing`);
  const thread: ThreadRef = { kind: 'pull-request', url };
  const state = pull['merged'] === true || nonEmptyString(pull['merged_at']) !== null ? 'merged' : pull['state'] === 'closed' ? 'closed' : 'open';
  if (event === 'pull_request_review') {
    if (action !== 'submitted') return notice(`action ${describeAction(action)} is recorded only; submitted reviews are read`, thread);
    return githubComment(event, 'review', payload['review'], 'submitted_at', url, state);
  }
  if (action !== 'created') return notice(`action ${describeAction(action)} is recorded only; new comments (created) are read`, thread);
  return githubComment(event, 'review-comment', payload['comment'], 'created_at', url, state);
}

function describeAction(action: unknown): string {
  return typeof action === 'string' ? `"${truncate(action, 40)}"` : `(${describeJsonType(action)})`;
}

function githubComment(
  event: string,
  kind: 'issue-comment' | 'review' | 'review-comment',
  value: unknown,
  timeField: 'created_at' | 'submitted_at',
  pullRequest: string,
  state: 'open' | 'closed' | 'merged',
): Parsed<UpdateFacts> {
  const what = kind === 'review' ? 'review' : 'comment';
  if (!isRecord(value)) return fail(`github ${event}: ${what} is not an object (got ${describeJsonType(value)})`);
  const id = idOf(value['id']);
  if (id === null) return fail(`github ${event}: ${what}.id is missing`);
  const login = nonEmptyString(record(value['user'])['login']);
  if (login === null) return fail(`github ${event}: ${what} ${id} has no user.login`);
  const commentedAt = parseAwsTimestamp(typeof value[timeField] === 'string' ? value[timeField] : '');
  if (commentedAt === null) return fail(`github ${event}: ${what} ${id} has no valid ${timeField}`);
  const body = value['body'];
  if (body !== null && body !== undefined && typeof body !== 'string') return fail(`github ${event}: ${what} ${id} body is not text (got ${describeJsonType(body)})`);
  const line = wholeNumber(value['line']) ?? wholeNumber(value['original_line']);
  return ok({
    kind: 'comment',
    event,
    comment: {
      source: 'github',
      externalId: `github:${kind}:${id}`,
      thread: { kind: 'pull-request', url: pullRequest },
      author: login,
      authorAliases: [],
      authorAssociation: nonEmptyString(value['author_association']),
      body: body ?? '',
      path: kind === 'review-comment' ? nonEmptyString(value['path']) : null,
      line: kind === 'review-comment' ? line : null,
      url: nonEmptyString(value['html_url']),
      commentedAt,
      pullRequestState: state,
    },
  });
}

/** `jira:issue_updated` (a notice carrying its ticket) or `comment_created` (a comment on the ticket). */
export function parseJiraUpdate(body: JsonRecord): Parsed<UpdateFacts> {
  const event = String(body['webhookEvent']);
  const issue = record(body['issue']);
  const key = nonEmptyString(issue['key']) ?? idOf(issue['id']);
  if (key === null) return fail(`Jira webhook ${event} has no issue key`);
  const thread: ThreadRef = { kind: 'ticket', key };
  if (event === 'jira:issue_updated') {
    const ticket = parseJiraWebhook(body);
    if (!ticket.ok) return ticket;
    return ok({ kind: 'notice', event, source: 'jira', thread, ticket: ticket.value, reason: ticketUpdateReason(ticket.value.key) });
  }
  const comment = body['comment'];
  if (!isRecord(comment)) return fail(`Jira webhook ${event} has no comment object (got ${describeJsonType(comment)})`);
  const id = idOf(comment['id']);
  if (id === null) return fail(`Jira webhook ${event} on ${truncate(key, 60)}: comment.id is missing`);
  const author = record(comment['author']);
  const name = nonEmptyString(author['displayName']) ?? nonEmptyString(author['accountId']) ?? nonEmptyString(author['name']);
  if (name === null) return fail(`Jira webhook ${event} on ${truncate(key, 60)}: comment ${id} has no author`);
  const commentedAt = parseAwsTimestamp(typeof comment['created'] === 'string' ? comment['created'] : '');
  if (commentedAt === null) return fail(`Jira webhook ${event} on ${truncate(key, 60)}: comment ${id} has no valid created time`);
  const text = comment['body'];
  return ok({
    kind: 'comment',
    event,
    comment: {
      source: 'jira',
      externalId: `jira:comment:${id}`,
      thread,
      author: name,
      authorAliases: [author['accountId'], author['emailAddress'], author['name']].map(nonEmptyString).filter((alias): alias is string => alias !== null),
      authorAssociation: null,
      // Jira Cloud sends wiki text in webhooks, the REST v3 API a document (ADF).
      body: typeof text === 'string' ? text : flattenAdf(text),
      path: null,
      line: null,
      url: nonEmptyString(comment['self']),
      commentedAt,
      pullRequestState: null,
    },
  });
}

function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return nonEmptyString(value);
}

function wholeNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= 2_147_483_647 ? value : null;
}

/** What a `jira:issue_updated` of a ticket that already has its job is recorded with. */
export function ticketUpdateReason(key: string): string {
  return `jira:issue_updated of ${truncate(key, 60)}: recorded against the ticket (its text is refreshed); an update starts nothing, only a comment addressed to the agent does`;
}

// ---------------------------------------------------------------------------------------------------------------
// Deciding

/** The thread's first job, as the scheduler found it (the job that opened the pull request, or the ticket's job). */
export interface ThreadJob {
  id: string;
  status: 'pending' | 'launching' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** The branch its result names (jobs.result.branch), or null when it made none. */
  resultBranch: string | null;
}

/** What the scheduler looked up, under the thread's lock, for a comment that passed the screen. */
export interface ThreadLookup {
  firstJob: ThreadJob | null;
  /** The follow-up job that already holds this comment (same source and external id), or null. */
  alreadyRequestedBy: string | null;
}

export type FollowUpDecision =
  | { decision: 'follow-up' }
  /** The update is kept (classification `update`) and starts nothing; the reason is stored on the delivery. */
  | { decision: 'record'; reason: string }
  /** Refused: stored as `rejected`, with the reason. */
  | { decision: 'reject'; reason: string };

/**
 * The checks that need nothing but the message and the configuration. null: the comment passed them, and the
 * scheduler must look its thread up and call {@link decideFollowUp}.
 */
export function screenUpdate(update: UpdateFacts, policy: FollowUpPolicy): FollowUpDecision | null {
  if (update.kind === 'notice') return { decision: 'record', reason: update.reason };
  const { comment } = update;
  const what = `${comment.source === 'github' ? 'github' : 'Jira'} ${update.event} ${comment.externalId} by ${truncate(comment.author, 60)}`;
  const own = systemAuthorship(comment, policy);
  if (own === 'login') {
    return { decision: 'reject', reason: `${what}: written by Agent Conductor itself (a FOLLOW_UP_SYSTEM_LOGINS login); its own comments never start a follow-up` };
  }
  if (own === 'marker') {
    return { decision: 'reject', reason: `${what}: carries Agent Conductor's reply marker, so it is the system's own comment; it never starts a follow-up` };
  }
  if (!addressesAgent(comment.body, policy.mention)) {
    return { decision: 'record', reason: `${what}: not addressed to the agent (it does not start with ${policy.mention}); recorded, it starts nothing` };
  }
  if (comment.source === 'github' && !WRITE_ASSOCIATIONS.includes(comment.authorAssociation ?? '')) {
    return {
      decision: 'reject',
      reason: `${what}: the author has no write access to the repository (author_association ${comment.authorAssociation ?? 'missing'}; ${WRITE_ASSOCIATIONS.join(', ')} may ask for follow-ups)`,
    };
  }
  if (comment.pullRequestState === 'closed' || comment.pullRequestState === 'merged') {
    return { decision: 'reject', reason: `${what}: pull request ${truncate(threadName(comment.thread), 200)} is ${comment.pullRequestState}; follow-ups run on open pull requests only` };
  }
  return null;
}

/** Why a comment is the system's own: written under one of its logins, or carrying its reply marker; null: a person's. */
function systemAuthorship(comment: UpdateComment, policy: FollowUpPolicy): 'login' | 'marker' | null {
  const system = policy.systemLogins.map((login) => login.toLowerCase());
  if ([comment.author, ...comment.authorAliases].some((name) => system.includes(name.toLowerCase()))) return 'login';
  if (comment.body.includes(WORKER_REPLY_MARKER) || comment.body.includes(JIRA_REPORT_MARKER)) return 'marker';
  return null;
}

/**
 * Whether an update that starts nothing is listed on its thread's job pages ("comments not acted on"): a person's
 * comment is, whatever the reason. Notices are not comments, and the system's own comments (a reply after every
 * follow-up, a Jira report after every job) would bury the ones an operator looks for; both stay plain deliveries.
 */
export function listedOnThread(update: UpdateFacts, policy: FollowUpPolicy): boolean {
  return update.kind === 'comment' && systemAuthorship(update.comment, policy) === null;
}

/** The whole decision on an update, given what the scheduler found for its thread. */
export function decideFollowUp(update: UpdateFacts, policy: FollowUpPolicy, lookup: ThreadLookup): FollowUpDecision {
  const screened = screenUpdate(update, policy);
  if (screened !== null || update.kind === 'notice') return screened ?? { decision: 'record', reason: 'notice' };
  const { comment } = update;
  const what = `${comment.source === 'github' ? 'github' : 'Jira'} ${update.event} ${comment.externalId} by ${truncate(comment.author, 60)}`;
  const thread = truncate(threadName(comment.thread), 200);
  const { firstJob } = lookup;
  if (firstJob === null) {
    return comment.thread.kind === 'pull-request'
      ? { decision: 'reject', reason: `${what}: pull request ${thread} was not opened by Agent Conductor (no job has it)` }
      : { decision: 'reject', reason: `${what}: ticket ${thread} has no job, so there is no branch to follow up on` };
  }
  if (!['succeeded', 'failed', 'cancelled'].includes(firstJob.status) || firstJob.resultBranch === null) {
    return {
      decision: 'reject',
      reason: `${what}: ${comment.thread.kind === 'ticket' ? 'ticket' : 'pull request'} ${thread}'s job ${firstJob.id} has not ended with a branch (status ${firstJob.status}); a follow-up continues an ended job's branch`,
    };
  }
  if (lookup.alreadyRequestedBy !== null) {
    return { decision: 'record', reason: `${what}: already requested (follow-up job ${lookup.alreadyRequestedBy}); recorded, it starts nothing more` };
  }
  return { decision: 'follow-up' };
}

function threadName(thread: ThreadRef): string {
  return thread.kind === 'pull-request' ? thread.url : thread.key;
}

/**
 * The follow-up job's TASK.md until the conductor renders the real one from its requests at launch. An agent that
 * ever reads it was launched by a conductor that cannot render follow-ups, so it is told to change nothing.
 */
export function followUpPlaceholderTask(thread: ThreadRef): string {
  return (
    `# Follow-up on ${threadName(thread)}\n\n` +
    'The conductor replaces this file at launch with the review comments to address (docs/follow-ups.md).\n' +
    'If you are reading this, it did not: change nothing, and report failure with the reason "follow-up task not rendered".\n'
  );
}
