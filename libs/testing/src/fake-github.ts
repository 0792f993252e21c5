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

export interface FakePullRequest {
  number: number;
  title: string;
  /** The head branch, without the owner. */
  head: string;
  base: string;
  body: string;
  state: 'open' | 'closed';
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
  /** owner/name → its pull requests, for the repositories trackPullRequests() was called for. */
  private readonly trackedPulls = new Map<string, FakePullRequest[]>();

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
   * Serves owner/name's pull requests from memory, as GitHub would: opening one (422 when one is already open from
   * the same head), listing by head and state, reading and editing one. Routes set with on() still come first.
   */
  trackPullRequests(repository: string): FakePullRequest[] {
    const pulls = this.trackedPulls.get(repository) ?? [];
    this.trackedPulls.set(repository, pulls);
    return pulls;
  }

  private pullRoute(call: RecordedApiCall): FakeAnswer | undefined {
    const [pathname = '', query = ''] = call.path.split('?', 2);
    const match = /^\/repos\/(([^/]+)\/[^/]+)\/pulls(?:\/(\d+))?$/.exec(pathname);
    const pulls = match?.[1] === undefined ? undefined : this.trackedPulls.get(match[1]);
    if (!match || !pulls) return undefined;
    const owner = match[2] ?? '';
    const shown = (pull: FakePullRequest): Record<string, unknown> => ({
      number: pull.number,
      html_url: `https://github.com/${match[1]}/pull/${pull.number}`,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      head: { ref: pull.head, label: `${owner}:${pull.head}` },
      base: { ref: pull.base },
    });
    if (match[3] !== undefined) {
      const pull = pulls.find((candidate) => candidate.number === Number(match[3]));
      if (!pull) return undefined;
      if (call.method === 'PATCH') {
        const body = field(call.body, 'body');
        const title = field(call.body, 'title');
        if (typeof body === 'string') pull.body = body;
        if (typeof title === 'string') pull.title = title;
      } else if (call.method !== 'GET') {
        return undefined;
      }
      return { status: 200, body: shown(pull) };
    }
    if (call.method === 'POST') {
      const head = String(field(call.body, 'head') ?? '');
      if (pulls.some((pull) => pull.state === 'open' && pull.head === head)) {
        return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] } };
      }
      const pull: FakePullRequest = {
        number: pulls.reduce((highest, candidate) => Math.max(highest, candidate.number), 0) + 1,
        title: String(field(call.body, 'title') ?? ''),
        head,
        base: String(field(call.body, 'base') ?? ''),
        body: String(field(call.body, 'body') ?? ''),
        state: 'open',
      };
      pulls.push(pull);
      return { status: 201, body: shown(pull) };
    }
    if (call.method !== 'GET') return undefined;
    const params = new URLSearchParams(query);
    const state = params.get('state') ?? 'open';
    const head = params.get('head');
    const listed = pulls.filter((pull) => (state === 'all' || pull.state === state) && (head === null || `${owner}:${pull.head}` === head));
    return { status: 200, body: listed.map(shown) };
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
    const answer = (handler ? handler(call) : (this.issueRoute(call) ?? this.pullRoute(call))) ?? { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
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
