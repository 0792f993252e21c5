import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedApiCall {
  method: string;
  /** Path and query, as sent. */
  path: string;
  authorization: string | undefined;
  /** Parsed JSON body, when there was one. */
  body: unknown;
}

export interface RecordedGitCall {
  method: string;
  path: string;
  authorization: string | undefined;
  /** When the request arrived (epoch ms): tells what happened before and after a push. */
  at: number;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (call: RecordedApiCall) => FakeAnswer;

export interface FakeWebhook {
  /** X-GitHub-Event, e.g. issue_comment. */
  event: string;
  payload: unknown;
  secret: string;
  /** X-GitHub-Delivery; a fresh UUID unless given (give the same one to replay a delivery). */
  deliveryId?: string;
  /** Sent instead of the body's real signature, to try a forged or stale one. */
  signature?: string;
  /** Sent instead of JSON.stringify(payload), e.g. an oversized body. */
  rawBody?: string;
}

export interface FakeWebhookAnswer {
  status: number;
  body: string;
  deliveryId: string;
}

/** X-Hub-Signature-256 as GitHub computes it: HMAC-SHA256 of the raw body with the webhook secret, hex, prefixed. */
export function githubWebhookSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** An issue the fake holds once trackIssues() is on: opened through the API, or seeded as an earlier run's. */
export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  comments: string[];
}

/** A pull request the fake holds once trackPullRequest() is on: its state, head branch and conversation comments. */
export interface FakePullRequest {
  number: number;
  headRef: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** Conversation comments (GitHub's issue comments on the pull request), oldest first; edits replace the body. */
  comments: Array<{ id: number; body: string }>;
}

export interface FakeGitHubOptions {
  /** Directory holding bare repositories, served at <url>/git/<name>.git over git's smart HTTP protocol. */
  gitRoot: string;
  /** The token a push must carry (as Basic x-access-token:<token>); fetches need none, like a public repository. */
  pushToken: string;
}

/**
 * A GitHub stand-in on loopback: the REST API answers from per-route handlers and records every call, and
 * /git/ is real git (git http-backend as CGI), so pushes go through git's own HTTP client and authentication.
 */
export class FakeGitHub {
  readonly apiCalls: RecordedApiCall[] = [];
  /** Serve the repositories as private ones: fetches need the token too. */
  privateRepositories = false;
  readonly gitCalls: RecordedGitCall[] = [];
  url = '';
  private readonly server: Server;
  private readonly routes = new Map<string, FakeHandler[]>();
  /** owner/name → its issues, for the repositories trackIssues() was called for. */
  private readonly trackedIssues = new Map<string, FakeIssue[]>();
  /** owner/name → its pull requests, for the repositories trackPullRequest() was called for. */
  private readonly trackedPulls = new Map<string, FakePullRequest[]>();
  private lastCommentId = 1000;

  constructor(private readonly options: FakeGitHubOptions) {
    this.server = createServer((request, response) => {
      const path = request.url ?? '/';
      const handle = path.startsWith('/git/') ? this.serveGit(request, response, path.slice('/git'.length)) : this.serveApi(request, response, path);
      handle.catch((error: unknown) => {
        response.statusCode = 500;
        response.end(error instanceof Error ? error.message : String(error));
      });
    });
  }

  get apiUrl(): string {
    return `${this.url}/api/v3`;
  }

  cloneUrl(name: string): string {
    return `${this.url}/git/${name}.git`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Delivers a webhook to `url` the way GitHub does: JSON body, event, delivery id and signature headers. */
  async sendWebhook(url: string, webhook: FakeWebhook): Promise<FakeWebhookAnswer> {
    const body = webhook.rawBody ?? JSON.stringify(webhook.payload);
    const deliveryId = webhook.deliveryId ?? randomUUID();
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/fake',
        'x-github-event': webhook.event,
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': webhook.signature ?? githubWebhookSignature(webhook.secret, body),
      },
      body,
    });
    return { status: response.status, body: await response.text(), deliveryId };
  }

  /** Answers "METHOD /path" (path without the /api/v3 prefix, query included) with the handlers in turn; the last one repeats. */
  on(method: string, path: string, ...handlers: FakeHandler[]): this {
    this.routes.set(`${method} ${path}`, handlers);
    return this;
  }

  /**
   * Serves owner/name's issues from memory, as GitHub would: opening one, listing (state, labels, newest first,
   * per_page) and commenting. Routes set with on() still come first.
   */
  trackIssues(repository: string): FakeIssue[] {
    const issues = this.trackedIssues.get(repository) ?? [];
    this.trackedIssues.set(repository, issues);
    return issues;
  }

  /**
   * Serves a pull request of owner/name from memory, as GitHub would: reading it, and listing (per_page, page),
   * posting and editing its conversation comments. Routes set with on() still come first.
   */
  trackPullRequest(repository: string, pull: { number: number; headRef: string; state?: 'open' | 'closed'; merged?: boolean }): FakePullRequest {
    const tracked: FakePullRequest = { number: pull.number, headRef: pull.headRef, title: '', body: '', state: pull.state ?? 'open', merged: pull.merged ?? false, comments: [] };
    this.trackPullRequests(repository).push(tracked);
    return tracked;
  }

  /**
   * Serves owner/name's pull requests from memory: opening one (POST …/pulls, numbered after every tracked issue and
   * pull request), listing them by head and state, and all trackPullRequest() serves.
   */
  trackPullRequests(repository: string): FakePullRequest[] {
    const pulls = this.trackedPulls.get(repository) ?? [];
    this.trackedPulls.set(repository, pulls);
    return pulls;
  }

  private pullRequestRoute(call: RecordedApiCall): FakeAnswer | undefined {
    const [pathname = '', query = ''] = call.path.split('?', 2);
    const match = /^\/repos\/([^/]+\/[^/]+)\/(?:pulls\/(\d+)|issues\/(\d+)\/comments|issues\/comments\/(\d+)|(pulls))$/.exec(pathname);
    const pulls = match?.[1] === undefined ? undefined : this.trackedPulls.get(match[1]);
    if (!match || !pulls) return undefined;
    const htmlUrl = (number: number): string => `https://github.com/${match[1]}/pull/${number}`;
    if (match[5] !== undefined) {
      const owner = match[1]?.split('/')[0] ?? '';
      if (call.method === 'POST') {
        const issues = this.trackedIssues.get(match[1] ?? '') ?? [];
        const highest = Math.max(0, ...pulls.map((pull) => pull.number), ...issues.map((issue) => issue.number));
        const head = String(field(call.body, 'head') ?? '');
        const pull: FakePullRequest = {
          number: highest + 1,
          headRef: head.startsWith(`${owner}:`) ? head.slice(owner.length + 1) : head,
          title: String(field(call.body, 'title') ?? ''),
          body: String(field(call.body, 'body') ?? ''),
          state: 'open',
          merged: false,
          comments: [],
        };
        pulls.push(pull);
        return { status: 201, body: { number: pull.number, html_url: htmlUrl(pull.number) } };
      }
      if (call.method !== 'GET') return undefined;
      const params = new URLSearchParams(query);
      const state = params.get('state') ?? 'open';
      const head = params.get('head');
      const listed = pulls.filter((pull) => (state === 'all' || pull.state === state) && (head === null || head === `${owner}:${pull.headRef}`));
      return { status: 200, body: listed.map((pull) => ({ number: pull.number, title: pull.title, state: pull.state, head: { ref: pull.headRef }, html_url: htmlUrl(pull.number) })) };
    }
    const shownComment = (pull: FakePullRequest, comment: { id: number; body: string }): Record<string, unknown> => ({
      id: comment.id,
      body: comment.body,
      html_url: `${htmlUrl(pull.number)}#issuecomment-${comment.id}`,
    });
    if (match[2] !== undefined) {
      const pull = pulls.find((candidate) => candidate.number === Number(match[2]));
      if ((call.method !== 'GET' && call.method !== 'PATCH') || !pull) return undefined;
      if (call.method === 'PATCH') {
        // Editing a pull request: the fields given replace the stored ones, as GitHub's PATCH does.
        const body = field(call.body, 'body');
        const title = field(call.body, 'title');
        if (typeof body === 'string') pull.body = body;
        if (typeof title === 'string') pull.title = title;
      }
      return { status: 200, body: { number: pull.number, title: pull.title, body: pull.body, state: pull.state, merged: pull.merged, head: { ref: pull.headRef }, html_url: htmlUrl(pull.number) } };
    }
    if (match[3] !== undefined) {
      const pull = pulls.find((candidate) => candidate.number === Number(match[3]));
      if (!pull) return undefined;
      if (call.method === 'POST') {
        const comment = { id: ++this.lastCommentId, body: String(field(call.body, 'body') ?? '') };
        pull.comments.push(comment);
        return { status: 201, body: shownComment(pull, comment) };
      }
      if (call.method !== 'GET') return undefined;
      const params = new URLSearchParams(query);
      const perPage = Number(params.get('per_page') ?? '30');
      const page = Number(params.get('page') ?? '1');
      return { status: 200, body: pull.comments.slice((page - 1) * perPage, page * perPage).map((comment) => shownComment(pull, comment)) };
    }
    for (const pull of pulls) {
      const comment = pull.comments.find((candidate) => candidate.id === Number(match[4]));
      if (!comment || call.method !== 'PATCH') continue;
      comment.body = String(field(call.body, 'body') ?? '');
      return { status: 200, body: shownComment(pull, comment) };
    }
    return undefined;
  }

  private issueRoute(call: RecordedApiCall): FakeAnswer | undefined {
    const [pathname = '', query = ''] = call.path.split('?', 2);
    const match = /^\/repos\/([^/]+\/[^/]+)\/issues(?:\/(\d+)\/comments)?$/.exec(pathname);
    const issues = match?.[1] === undefined ? undefined : this.trackedIssues.get(match[1]);
    if (!match || !issues) return undefined;
    const htmlUrl = (number: number): string => `https://github.com/${match[1]}/issues/${number}`;
    const shown = (issue: FakeIssue): Record<string, unknown> => ({
      number: issue.number,
      html_url: htmlUrl(issue.number),
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labels.map((name) => ({ name })),
    });
    if (match[2] !== undefined) {
      const issue = issues.find((candidate) => candidate.number === Number(match[2]));
      if (call.method !== 'POST' || !issue) return undefined;
      issue.comments.push(String(field(call.body, 'body') ?? ''));
      return { status: 201, body: { id: issue.comments.length, html_url: `${htmlUrl(issue.number)}#issuecomment-${issue.comments.length}` } };
    }
    if (call.method === 'POST') {
      const labels = field(call.body, 'labels');
      const issue: FakeIssue = {
        number: issues.reduce((highest, candidate) => Math.max(highest, candidate.number), 0) + 1,
        title: String(field(call.body, 'title') ?? ''),
        body: String(field(call.body, 'body') ?? ''),
        labels: Array.isArray(labels) ? labels.map(String) : [],
        state: 'open',
        comments: [],
      };
      issues.push(issue);
      return { status: 201, body: shown(issue) };
    }
    if (call.method !== 'GET') return undefined;
    const params = new URLSearchParams(query);
    const state = params.get('state') ?? 'open';
    const wanted = (params.get('labels') ?? '').split(',').filter((label) => label !== '');
    const perPage = Number(params.get('per_page') ?? '30');
    const listed = issues
      .filter((issue) => (state === 'all' || issue.state === state) && wanted.every((label) => issue.labels.includes(label)))
      .sort((a, b) => b.number - a.number)
      .slice(0, perPage);
    return { status: 200, body: listed.map(shown) };
  }

  private async serveApi(request: IncomingMessage, response: ServerResponse, fullPath: string): Promise<void> {
    const raw = await readBody(request);
    const path = fullPath.startsWith('/api/v3') ? fullPath.slice('/api/v3'.length) : fullPath;
    const call: RecordedApiCall = {
      method: request.method ?? '',
      path,
      authorization: request.headers.authorization,
      body: raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined,
    };
    this.apiCalls.push(call);
    const handlers = this.routes.get(`${call.method} ${path}`);
    const handler = handlers && handlers.length > 1 ? handlers.shift() : handlers?.[0];
    const answer = (handler ? handler(call) : (this.pullRequestRoute(call) ?? this.issueRoute(call))) ?? { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
    response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private async serveGit(request: IncomingMessage, response: ServerResponse, pathWithQuery: string): Promise<void> {
    const [pathInfo = '', query = ''] = pathWithQuery.split('?', 2);
    this.gitCalls.push({ method: request.method ?? '', path: pathWithQuery, authorization: request.headers.authorization, at: Date.now() });
    const isPush = pathInfo.endsWith('/git-receive-pack') || query.includes('service=git-receive-pack');
    const expected = `Basic ${Buffer.from(`x-access-token:${this.options.pushToken}`).toString('base64')}`;
    if ((isPush || this.privateRepositories) && request.headers.authorization !== expected) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="fake-github"', 'content-type': 'text/plain' });
      response.end('Invalid username or token.\n');
      return;
    }
    const body = await readBody(request);
    const output = await runCgi(cgiEnv(request.headers, request.method ?? 'GET', pathInfo, query, this.options.gitRoot, isPush), body);
    const separator = output.indexOf('\r\n\r\n') >= 0 ? '\r\n\r\n' : '\n\n';
    const end = output.indexOf(separator);
    const headerLines = output.subarray(0, end).toString('latin1').split(/\r?\n/);
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else if (name !== '') headers[name] = value;
    }
    response.writeHead(status, headers);
    response.end(output.subarray(end + separator.length));
  }
}

function cgiEnv(headers: IncomingHttpHeaders, method: string, pathInfo: string, query: string, gitRoot: string, isPush: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    GIT_PROJECT_ROOT: gitRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: method,
    PATH_INFO: pathInfo,
    QUERY_STRING: query,
    REMOTE_ADDR: '127.0.0.1',
  };
  // http-backend only allows receive-pack for an authenticated user.
  if (isPush) env['REMOTE_USER'] = 'x-access-token';
  if (headers['content-type']) env['CONTENT_TYPE'] = headers['content-type'];
  if (headers['content-encoding']) env['HTTP_CONTENT_ENCODING'] = headers['content-encoding'];
  const protocol = headers['git-protocol'];
  if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;
  return env;
}

function runCgi(env: NodeJS.ProcessEnv, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`git http-backend exited ${code}: ${Buffer.concat(err).toString()}`))));
    // http-backend may answer (e.g. refuse an unauthenticated push) and exit before reading the request body;
    // the write then fails with EPIPE, and the exit code above is what matters.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
