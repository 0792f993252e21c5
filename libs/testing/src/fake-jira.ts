import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeJiraRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  authorization: string | undefined;
  /** Parsed JSON body, when there was one. */
  body: unknown;
}

export interface FakeJiraComment {
  id: string;
  /** The Atlassian Document Format document, as posted. */
  body: unknown;
}

export interface FakeJiraTransition {
  id: string;
  name: string;
  /** The status the issue moves to. */
  to: string;
}

/** The calls a failure can be planned for. */
export type FakeJiraCall = 'GET comment' | 'POST comment' | 'GET transitions' | 'POST transitions';

/**
 * status: answer with this HTTP status and do nothing. store-then-hang: do the work (store the comment, move the
 * issue) and never answer, as when the response is lost on its way back.
 */
export type FakeJiraFailure = { kind: 'status'; status: number } | { kind: 'store-then-hang' };

const ROUTE = /^\/rest\/api\/3\/issue\/([^/?]+)\/(comment|transitions)(?:\?.*)?$/;

/**
 * A Jira Cloud stand-in on loopback with the REST v3 calls the conductor makes: an issue's comments and transitions.
 * Records every request, checks the Authorization header, and fails the next N calls of a kind when asked.
 */
export class FakeJira {
  readonly requests: FakeJiraRequest[] = [];
  url = '';
  private readonly server: Server;
  private readonly issues = new Map<string, { status: string; comments: FakeJiraComment[]; transitions: FakeJiraTransition[] }>();
  private readonly failures = new Map<FakeJiraCall, FakeJiraFailure[]>();
  private readonly hanging = new Set<ServerResponse>();
  private nextId = 10_000;

  /** `authorization`: the exact header every request must carry, else 401. */
  constructor(private readonly authorization: string) {
    this.server = createServer((request, response) => {
      this.serve(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(error instanceof Error ? error.message : String(error));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addIssue(key: string, options: { status?: string; transitions?: FakeJiraTransition[] } = {}): void {
    this.issues.set(key, { status: options.status ?? 'To Do', comments: [], transitions: options.transitions ?? [] });
  }

  comments(key: string): FakeJiraComment[] {
    return [...(this.issues.get(key)?.comments ?? [])];
  }

  status(key: string): string | undefined {
    return this.issues.get(key)?.status;
  }

  /** The next `times` calls of `call` fail as `failure`; later ones are served. */
  fail(call: FakeJiraCall, times: number, failure: FakeJiraFailure): void {
    this.failures.set(call, [...(this.failures.get(call) ?? []), ...Array.from({ length: times }, () => failure)]);
  }

  callsOf(call: FakeJiraCall): FakeJiraRequest[] {
    const [method, kind] = call.split(' ');
    return this.requests.filter((request) => request.method === method && ROUTE.exec(request.path)?.[2] === kind);
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const body: unknown = raw === '' ? undefined : JSON.parse(raw);
    this.requests.push({ method, path, authorization: request.headers.authorization, body });
    if (request.headers.authorization !== this.authorization) return this.answer(response, 401, { errorMessages: ['You are not authenticated.'] });
    const route = ROUTE.exec(path);
    if (!route || (method !== 'GET' && method !== 'POST')) return this.answer(response, 404, { errorMessages: ['No such endpoint.'] });
    const issue = this.issues.get(decodeURIComponent(route[1] ?? ''));
    if (!issue) return this.answer(response, 404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
    const call = `${method} ${route[2]}` as FakeJiraCall;
    const failure = this.failures.get(call)?.shift();
    if (failure?.kind === 'status') return this.answer(response, failure.status, { errorMessages: [`planned failure ${failure.status}`] });
    const answer = this.handle(call, issue, body);
    if (failure?.kind === 'store-then-hang') {
      this.hanging.add(response);
      return;
    }
    this.answer(response, answer.status, answer.body);
  }

  private handle(
    call: FakeJiraCall,
    issue: { status: string; comments: FakeJiraComment[]; transitions: FakeJiraTransition[] },
    body: unknown,
  ): { status: number; body?: unknown } {
    switch (call) {
      case 'GET comment':
        // Newest first, as the conductor asks (orderBy=-created).
        return { status: 200, body: { startAt: 0, maxResults: 100, total: issue.comments.length, comments: [...issue.comments].reverse() } };
      case 'POST comment': {
        const document = typeof body === 'object' && body !== null && 'body' in body ? body.body : undefined;
        if (typeof document !== 'object' || document === null) return { status: 400, body: { errors: { comment: 'Comment body can not be empty!' } } };
        const comment = { id: String(this.nextId++), body: document };
        issue.comments.push(comment);
        return { status: 201, body: comment };
      }
      case 'GET transitions':
        return { status: 200, body: { transitions: issue.transitions.filter((transition) => transition.to !== issue.status).map(({ id, name }) => ({ id, name })) } };
      case 'POST transitions': {
        const id = typeof body === 'object' && body !== null && 'transition' in body && typeof body.transition === 'object' && body.transition !== null && 'id' in body.transition ? body.transition.id : undefined;
        const transition = issue.transitions.find((candidate) => candidate.id === id && candidate.to !== issue.status);
        if (!transition) return { status: 400, body: { errorMessages: ['Transition id is not valid for this issue.'] } };
        issue.status = transition.to;
        return { status: 204 };
      }
    }
  }

  private answer(response: ServerResponse, status: number, body?: unknown): void {
    response.statusCode = status;
    if (body === undefined) {
      response.end();
      return;
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(body));
  }
}
