/**
 * Intake-queue bodies for follow-up tests (docs/follow-ups.md): GitHub review events in the ingress's envelope and
 * Jira comment webhooks, shaped as GitHub and Jira send them (only the fields the scheduler reads, plus a few more).
 */

export interface ReviewEventOptions {
  /** The pull request's html URL. */
  pullRequest: string;
  id: number;
  body: string | null;
  login?: string;
  association?: string;
  /** Default open. */
  state?: 'open' | 'closed' | 'merged';
  deliveryId?: string;
  at?: string;
}

export type ReviewEventKind = 'issue_comment' | 'pull_request_review' | 'pull_request_review_comment';

let deliveries = 0;

/** The envelope the conductor's ingress queues for a new PR comment, submitted review or review comment. */
export function githubReviewEvent(event: ReviewEventKind, options: ReviewEventOptions & { path?: string; line?: number | null; originalLine?: number }): string {
  const state = options.state ?? 'open';
  const user = { login: options.login ?? 'octo-reviewer', type: 'User' };
  const at = options.at ?? '2026-05-12T18:20:00Z';
  const association = options.association ?? 'MEMBER';
  const pullRequest = {
    html_url: options.pullRequest,
    number: Number(options.pullRequest.split('/').pop()),
    state: state === 'open' ? 'open' : 'closed',
    merged: state === 'merged',
    merged_at: state === 'merged' ? at : null,
    head: { ref: 'agent/ENG-1' },
  };
  let payload: Record<string, unknown>;
  if (event === 'issue_comment') {
    payload = {
      action: 'created',
      issue: { number: pullRequest.number, html_url: options.pullRequest, state: pullRequest.state, pull_request: { html_url: options.pullRequest } },
      comment: { id: options.id, body: options.body, user, author_association: association, created_at: at, html_url: `${options.pullRequest}#issuecomment-${options.id}` },
    };
  } else if (event === 'pull_request_review') {
    payload = {
      action: 'submitted',
      pull_request: pullRequest,
      review: { id: options.id, body: options.body, state: 'changes_requested', user, author_association: association, submitted_at: at, html_url: `${options.pullRequest}#pullrequestreview-${options.id}` },
    };
  } else {
    payload = {
      action: 'created',
      pull_request: pullRequest,
      comment: {
        id: options.id,
        body: options.body,
        user,
        author_association: association,
        path: options.path ?? 'src/app.ts',
        line: options.line === undefined ? 12 : options.line,
        original_line: options.originalLine ?? 10,
        created_at: at,
        html_url: `${options.pullRequest}#discussion_r${options.id}`,
      },
    };
  }
  deliveries += 1;
  return JSON.stringify({ githubWebhook: { deliveryId: options.deliveryId ?? `delivery-${process.pid}-${deliveries}`, event }, payload });
}

/** Jira's `comment_created` webhook for a comment on `key`. */
export function jiraCommentCreated(key: string, options: { id: string; body: string; author?: string; accountId?: string; at?: string }): string {
  return JSON.stringify({
    timestamp: 1778610134000,
    webhookEvent: 'comment_created',
    comment: {
      id: options.id,
      self: `https://example.atlassian.net/rest/api/2/issue/10002/comment/${options.id}`,
      body: options.body,
      author: { accountId: options.accountId ?? 'acc-123', displayName: options.author ?? 'Sam Reporter' },
      created: options.at ?? '2026-05-12T18:20:00.000+0000',
    },
    issue: { id: '10002', key, fields: { summary: 'Login fails after session timeout' } },
  });
}

/** Jira's `jira:issue_updated` webhook for `key` (a summary edit). */
export function jiraIssueUpdated(key: string, summary = 'Login fails after session timeout (edited)'): string {
  return JSON.stringify({
    timestamp: 1778610134000,
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_updated',
    issue: { id: '10002', key, fields: { summary, description: 'Users are redirected to a blank page.', project: { key: key.split('-')[0] }, labels: [], components: [] } },
  });
}
