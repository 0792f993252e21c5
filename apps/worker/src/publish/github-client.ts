import { redactSecrets } from '@agent-conductor/contracts';
import { Logger } from '@nestjs/common';
import { Octokit } from '@octokit/rest';

export interface GitHubRepositoryRef {
  owner: string;
  name: string;
}

export interface GitHubClientOptions {
  token: string;
  apiUrl: string;
  /** Pause before the one retry of a 5xx answer or a dropped connection. */
  retryDelayMs: number;
}

export interface RepositoryInfo {
  defaultBranch: string;
  htmlUrl: string;
}

export interface CreatedItem {
  url: string;
  number: number;
  /** False when an earlier attempt had already opened it. */
  created: boolean;
}

/** Hides the secret and every common token shape, so that no message built from a response or from git can carry one. */
export function redact(text: string, secret: string): string {
  return redactSecrets(text, [secret]);
}

/** How far back an earlier attempt's issue is looked for: one page, the most recently created. */
const ISSUES_SEARCHED = 100;

/** How far a retried follow-up looks for its earlier reply: a pull request with more comments than this is rare. */
const COMMENTS_PER_PAGE = 100;
const COMMENT_PAGES = 10;

export const fullName = (repository: GitHubRepositoryRef): string => `${repository.owner}/${repository.name}`;

/** The few REST calls the publisher makes, with errors that say what to fix and never carry the token. */
export class GitHubClient {
  private readonly logger = new Logger(GitHubClient.name);
  private readonly octokit: Octokit;

  constructor(private readonly options: GitHubClientOptions) {
    const quiet = (): void => undefined;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: options.apiUrl.replace(/\/+$/, ''),
      userAgent: 'agent-conductor-worker',
      // Octokit would otherwise log to the console, unredacted.
      log: { debug: quiet, info: quiet, warn: (message: string) => this.logger.warn(this.redact(message)), error: (message: string) => this.logger.error(this.redact(message)) },
    });
  }

  async repository(repository: GitHubRepositoryRef): Promise<RepositoryInfo> {
    const { data } = await this.call(`reading repository ${fullName(repository)}`, repository, () => this.octokit.rest.repos.get({ owner: repository.owner, repo: repository.name }));
    return { defaultBranch: data.default_branch, htmlUrl: data.html_url };
  }

  /** Opens the pull request, or finds the open one an earlier attempt of this worker opened for the same head. */
  async openPullRequest(repository: GitHubRepositoryRef, pull: { title: string; head: string; base: string; body: string }): Promise<CreatedItem> {
    const what = `opening a pull request from ${pull.head} in ${fullName(repository)}`;
    try {
      const { data } = await this.call(what, repository, () => this.octokit.rest.pulls.create({ owner: repository.owner, repo: repository.name, ...pull }));
      return { url: data.html_url, number: data.number, created: true };
    } catch (error) {
      if (!(error instanceof GitHubApiError) || error.status !== 422) throw error;
      const { data: open } = await this.call(`looking up the existing pull request from ${pull.head}`, repository, () =>
        this.octokit.rest.pulls.list({ owner: repository.owner, repo: repository.name, head: `${repository.owner}:${pull.head}`, state: 'open' }),
      );
      const existing = open[0];
      // 422 also means "no commits between" and the like; only an existing pull request makes it a success.
      if (!existing) throw error;
      this.logger.log(`A pull request from ${pull.head} already exists: ${existing.html_url}`);
      return { url: existing.html_url, number: existing.number, created: false };
    }
  }

  /** The open pull request whose head is this repository's branch, if there is one. */
  async openPullRequestFrom(repository: GitHubRepositoryRef, branch: string): Promise<{ url: string; title: string; number: number } | undefined> {
    const { data } = await this.call(`looking up the open pull request from ${branch} in ${fullName(repository)}`, repository, () =>
      this.octokit.rest.pulls.list({ owner: repository.owner, repo: repository.name, head: `${repository.owner}:${branch}`, state: 'open' }),
    );
    const open = data[0];
    return open ? { url: open.html_url, title: open.title, number: open.number } : undefined;
  }

  /** Replaces the pull request's body (PATCH /repos/{owner}/{repo}/pulls/{number}). */
  async updatePullRequestBody(repository: GitHubRepositoryRef, pullNumber: number, body: string): Promise<void> {
    await this.call(`editing pull request #${pullNumber} in ${fullName(repository)}`, repository, () =>
      this.octokit.rest.pulls.update({ owner: repository.owner, repo: repository.name, pull_number: pullNumber, body }),
    );
  }

  async openIssue(repository: GitHubRepositoryRef, issue: { title: string; body: string; labels?: string[] }): Promise<CreatedItem> {
    const { data } = await this.call(`opening an issue in ${fullName(repository)}`, repository, () => this.octokit.rest.issues.create({ owner: repository.owner, repo: repository.name, ...issue }));
    return { url: data.html_url, number: data.number, created: true };
  }

  /**
   * The open issue whose body carries the marker, among the most recently created ones (with the label, when given).
   * Listing rather than the search API: search is eventually consistent, and a retry can come seconds later.
   */
  async findOpenIssue(repository: GitHubRepositoryRef, marker: string, label: string | undefined): Promise<{ url: string; number: number } | undefined> {
    const { data } = await this.call(`listing the open issues of ${fullName(repository)}`, repository, () =>
      this.octokit.rest.issues.listForRepo({
        owner: repository.owner,
        repo: repository.name,
        state: 'open',
        sort: 'created',
        direction: 'desc',
        per_page: ISSUES_SEARCHED,
        ...(label === undefined ? {} : { labels: label }),
      }),
    );
    // The list holds pull requests too; only an issue's body is ours to match.
    const found = data.find((issue) => issue.pull_request === undefined && (issue.body ?? '').includes(marker));
    return found ? { url: found.html_url, number: found.number } : undefined;
  }

  /** Comments on an issue or, by its number, a pull request. */
  async comment(repository: GitHubRepositoryRef, issueNumber: number, body: string): Promise<{ id: number; url: string }> {
    const { data } = await this.call(`commenting on issue #${issueNumber} in ${fullName(repository)}`, repository, () =>
      this.octokit.rest.issues.createComment({ owner: repository.owner, repo: repository.name, issue_number: issueNumber, body }),
    );
    return { id: data.id, url: data.html_url };
  }

  /** A pull request's state and head branch (the branch name on its own repository). */
  async pullRequest(repository: GitHubRepositoryRef, pullNumber: number): Promise<{ state: string; merged: boolean; headRef: string; url: string }> {
    const { data } = await this.call(`reading pull request #${pullNumber} in ${fullName(repository)}`, repository, () =>
      this.octokit.rest.pulls.get({ owner: repository.owner, repo: repository.name, pull_number: pullNumber }),
    );
    return { state: data.state, merged: data.merged === true, headRef: data.head.ref, url: data.html_url };
  }

  /**
   * The comment on an issue or pull request whose body carries the marker, among its first COMMENT_PAGES pages
   * (oldest first, as GitHub lists them). Listing, not search: search is eventually consistent.
   */
  async findComment(repository: GitHubRepositoryRef, issueNumber: number, marker: string): Promise<{ id: number; url: string } | undefined> {
    for (let page = 1; page <= COMMENT_PAGES; page++) {
      const { data } = await this.call(`listing the comments of #${issueNumber} in ${fullName(repository)}`, repository, () =>
        this.octokit.rest.issues.listComments({ owner: repository.owner, repo: repository.name, issue_number: issueNumber, per_page: COMMENTS_PER_PAGE, page }),
      );
      const found = data.find((comment) => (comment.body ?? '').includes(marker));
      if (found) return { id: found.id, url: found.html_url };
      if (data.length < COMMENTS_PER_PAGE) return undefined;
    }
    return undefined;
  }

  async updateComment(repository: GitHubRepositoryRef, commentId: number, body: string): Promise<{ id: number; url: string }> {
    const { data } = await this.call(`editing comment ${commentId} in ${fullName(repository)}`, repository, () =>
      this.octokit.rest.issues.updateComment({ owner: repository.owner, repo: repository.name, comment_id: commentId, body }),
    );
    return { id: data.id, url: data.html_url };
  }

  private async call<T>(what: string, repository: GitHubRepositoryRef, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (!isTransient(error)) throw this.explain(error, what, repository);
      this.logger.warn(`GitHub failed ${what} (${statusOf(error) ?? describe(error)}); retrying once in ${this.options.retryDelayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
      try {
        return await request();
      } catch (retryError) {
        throw this.explain(retryError, what, repository);
      }
    }
  }

  private explain(error: unknown, what: string, repository: GitHubRepositoryRef): Error {
    const status = statusOf(error);
    if (status === undefined) {
      return new GitHubApiError(undefined, this.redact(`could not reach the GitHub API at ${this.options.apiUrl} while ${what}: ${describe(error)}`));
    }
    const answer = `${status} ${this.redact(responseMessage(error))}`.trim();
    const name = fullName(repository);
    const headers = headersOf(error);
    let message: string;
    if (status === 429 || (status === 403 && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(answer)))) {
      const reset = Number(headers['x-ratelimit-reset']);
      const until = Number.isFinite(reset) && reset > 0 ? `; the limit resets at ${new Date(reset * 1000).toISOString()}` : '';
      message = `GitHub rate limit exceeded while ${what} (${answer})${until}`;
    } else if (status === 401) {
      message = `GitHub rejected GITHUB_TOKEN while ${what} (${answer}): the token is malformed, expired or revoked`;
    } else if (status === 403) {
      message = `GitHub refused ${what} (${answer}): GITHUB_TOKEN lacks a permission on ${name}; a fine-grained or installation token needs Contents: read and write, Pull requests: read and write, Issues: read and write`;
    } else if (status === 404) {
      message = `GitHub answered 404 while ${what}: ${name} does not exist, or GITHUB_TOKEN has no access to it (GitHub hides private repositories it cannot read)`;
    } else if (status >= 500) {
      message = `GitHub failed ${what} twice (${answer})`;
    } else {
      message = `GitHub answered ${answer} while ${what}${validationDetails(error)}`;
    }
    return new GitHubApiError(status, this.redact(message));
  }

  private redact(text: string): string {
    return redact(text, this.options.token);
  }
}

/** Built from scratch rather than wrapping Octokit's error, whose request record is not ours to vouch for. */
export class GitHubApiError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  // No status means the request never got an answer (connection refused or reset).
  return status === undefined ? error instanceof Error : status >= 500;
}

// Octokit's RequestError is read by shape: @octokit/request-error is not a dependency of ours.
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

function statusOf(error: unknown): number | undefined {
  // Octokit reports a request that got no answer at all as a 500 without a response.
  if (field(error, 'response') === undefined) return undefined;
  const status = field(error, 'status');
  return typeof status === 'number' && status >= 100 ? status : undefined;
}

function headersOf(error: unknown): Record<string, string> {
  const headers = field(field(error, 'response'), 'headers');
  if (typeof headers !== 'object' || headers === null) return {};
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function responseMessage(error: unknown): string {
  const message = field(field(field(error, 'response'), 'data'), 'message');
  return typeof message === 'string' ? message : '';
}

function validationDetails(error: unknown): string {
  const errors = field(field(field(error, 'response'), 'data'), 'errors');
  if (!Array.isArray(errors)) return '';
  const details = errors.map((entry: unknown) => field(entry, 'message') ?? field(entry, 'code')).filter((detail): detail is string => typeof detail === 'string');
  return details.length > 0 ? `: ${details.join('; ')}` : '';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED and the like) in its cause.
  // Read by shape: the cause may come from another realm (undici's), where instanceof Error fails.
  const cause = field(field(error, 'cause'), 'message');
  return typeof cause === 'string' && cause !== error.message ? `${error.message} (${cause})` : error.message;
}
