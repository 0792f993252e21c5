import type { JiraConfig } from '../config/env.validators';

/** The few Jira REST v3 calls the conductor makes; the port the delivery service is written against. */
export interface JiraClient {
  /** The issue's comments, newest first (at most the latest 100: enough to find one posted minutes ago). */
  listComments(issueKey: string): Promise<JiraComment[]>;
  /** Posts `text` (plain lines, turned into Atlassian Document Format); returns the new comment's id. */
  addComment(issueKey: string, text: string): Promise<string>;
  /** The transitions open to the issue from its current status. */
  listTransitions(issueKey: string): Promise<JiraTransition[]>;
  applyTransition(issueKey: string, transitionId: string): Promise<void>;
}

export interface JiraComment {
  id: string;
  /** Every text run of the comment's document, joined: enough to find a marker. */
  text: string;
}

export interface JiraTransition {
  id: string;
  name: string;
}

export const JIRA_CLIENT = Symbol('JIRA_CLIENT');

/**
 * A Jira call that did not succeed. `retryable` is false for answers that would repeat (the issue does not exist,
 * the credentials are refused); `status` is absent when no answer came (refused connection, timeout).
 */
export class JiraCallError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'JiraCallError';
  }
}

/** fetch-based client; the credentials go into the Authorization header only, never into a message. */
export class HttpJiraClient implements JiraClient {
  private readonly authorization: string;

  constructor(private readonly config: Pick<JiraConfig, 'baseUrl' | 'credentials' | 'timeoutMs'>) {
    const { credentials } = config;
    this.authorization =
      credentials.kind === 'basic'
        ? `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`
        : `Bearer ${credentials.token}`;
  }

  async listComments(issueKey: string): Promise<JiraComment[]> {
    const page = await this.call('GET', `${this.issuePath(issueKey)}/comment?orderBy=-created&maxResults=100`);
    const comments = isRecord(page) && Array.isArray(page['comments']) ? page['comments'] : [];
    return comments.filter(isRecord).map((comment) => ({ id: String(comment['id']), text: textRuns(comment['body']).join('\n') }));
  }

  async addComment(issueKey: string, text: string): Promise<string> {
    const created = await this.call('POST', `${this.issuePath(issueKey)}/comment`, { body: documentOf(text) });
    if (!isRecord(created) || (typeof created['id'] !== 'string' && typeof created['id'] !== 'number')) {
      throw new JiraCallError(`Jira answered POST comment on ${issueKey} without a comment id`, true);
    }
    return String(created['id']);
  }

  async listTransitions(issueKey: string): Promise<JiraTransition[]> {
    const answer = await this.call('GET', `${this.issuePath(issueKey)}/transitions`);
    const transitions = isRecord(answer) && Array.isArray(answer['transitions']) ? answer['transitions'] : [];
    return transitions.filter(isRecord).map((transition) => ({ id: String(transition['id']), name: String(transition['name']) }));
  }

  async applyTransition(issueKey: string, transitionId: string): Promise<void> {
    await this.call('POST', `${this.issuePath(issueKey)}/transitions`, { transition: { id: transitionId } });
  }

  private issuePath(issueKey: string): string {
    return `/rest/api/3/issue/${encodeURIComponent(issueKey)}`;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await fetch(`${this.config.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (error) {
      // AbortSignal.timeout rejects with a DOMException, which is not an Error in every realm: tell it by name.
      const timedOut = typeof error === 'object' && error !== null && 'name' in error && error.name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${this.config.timeoutMs} ms` : errorText(error);
      throw new JiraCallError(`${what}: ${reason}`, true);
    }
    const text = await response.text();
    if (!response.ok) {
      // 429 and 5xx pass; any other refusal (bad key, credentials, permissions) would be refused again.
      const retryable = response.status === 429 || response.status >= 500;
      throw new JiraCallError(`${what}: HTTP ${response.status}${jiraErrorText(text)}`, retryable, response.status);
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new JiraCallError(`${what}: the answer is not JSON`, true, response.status);
    }
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Jira's own words ({ errorMessages, errors }), bounded: they name the problem (e.g. "Issue does not exist"). */
function jiraErrorText(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isRecord(parsed)) return '';
    const messages = [
      ...(Array.isArray(parsed['errorMessages']) ? parsed['errorMessages'].map(String) : []),
      ...(isRecord(parsed['errors']) ? Object.entries(parsed['errors']).map(([field, message]) => `${field}: ${String(message)}`) : []),
    ];
    return messages.length > 0 ? ` (${messages.join('; ').slice(0, 300)})` : '';
  } catch {
    return '';
  }
}

/** One paragraph per line (Jira Cloud's v3 API takes comments in Atlassian Document Format only). */
export function documentOf(text: string): unknown {
  return {
    type: 'doc',
    version: 1,
    content: text.split('\n').map((line) => (line === '' ? { type: 'paragraph' } : { type: 'paragraph', content: [{ type: 'text', text: line }] })),
  };
}

function textRuns(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (!isRecord(node)) return [];
  const own = typeof node['text'] === 'string' ? [node['text']] : [];
  const children = Array.isArray(node['content']) ? node['content'].flatMap(textRuns) : [];
  return [...own, ...children];
}
