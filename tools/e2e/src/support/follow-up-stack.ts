import { ensureSampleRemote, LocalStack, startLocalStack } from '@agent-conductor/dev-stack';
import {
  FakeGitHub,
  FakeJira,
  startScriptedModel,
  userTexts,
  type FakePullRequest,
  type ScriptedModel,
  type ScriptedRequest,
  type ScriptedResponse,
} from '@agent-conductor/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The whole follow-up loop on one machine: the scheduler and conductor from dist/, workers running the real codex CLI
 * against a scripted model, the GitHub publisher against FakeGitHub (git over HTTP, pull requests and their
 * comments), Jira reporting against FakeJira, and the conductor's GitHub webhook ingress.
 */

export const REPOSITORY = 'acme/sample-app';
export const GITHUB_TOKEN = 'ghs_e2e-follow-up-push-token';
export const WEBHOOK_SECRET = 'e2e-webhook-secret-7f3a9c1e5b2d8f4a';
export const MODEL_API_KEY = 'sk-e2e-follow-up-5c1a9e3b7d2f4a8c';
export const JIRA_EMAIL = 'conductor-bot@example.com';
export const JIRA_API_TOKEN = 'jira-e2e-token-0a9b8c7d6e5f4a3b';
/** The GitHub login the system's own comments carry: comments by it must never start anything. */
export const SYSTEM_LOGIN = 'agent-conductor[bot]';
export const FOLLOW_UP_MENTION = '@agent';

/** What the scripted model makes codex do, and the words that tell one turn from another. */
export const AGENT_BRANCH = 'agent/eng-123-session-timeout';
export const FIRST_COMMIT = 'Redirect to the login page when the session has expired';
export const REVIEW_REQUEST = 'please also clear the stale session cookie';
export const SECOND_COMMIT = 'Clear the stale session cookie on redirect';
const ENDING_REPORT_PROMPT_START = 'Write the ending report now.';

/** The page FakeGitHub names for a pull request: what the publisher stores and the webhooks carry. */
export function pullRequestUrl(pull: Pick<FakePullRequest, 'number'>): string {
  return `https://github.com/${REPOSITORY}/pull/${pull.number}`;
}

/** The repository's pull requests, served by FakeGitHub: opened by the publisher, read and commented on by the worker. */
function servePullRequests(github: FakeGitHub): FakePullRequest[] {
  // A job that fails opens an [agent-failed] issue: served too, so a broken run says why instead of a 404.
  github.trackIssues(REPOSITORY);
  github.on('GET', `/repos/${REPOSITORY}`, () => ({ status: 200, body: { default_branch: 'main', html_url: `https://github.com/${REPOSITORY}` } }));
  return github.trackPullRequests(REPOSITORY);
}

/**
 * The model's side of the loop, decided from each request rather than by position, so a retried request gets the
 * same answer: the task commits a change on a feature branch; a review request adds a commit to the checked-out
 * branch; the ending-report prompt writes the meta files; a command's output is acknowledged with a message.
 */
export function scriptedAgentTurn(request: ScriptedRequest): ScriptedResponse {
  const input = requestInput(request);
  const last = input[input.length - 1];
  if (last?.['type'] === 'function_call_output') {
    return { items: [{ message: 'Done; the command succeeded.' }], usage: { inputTokens: 900, cachedInputTokens: 600, outputTokens: 20 } };
  }
  const texts = userTexts(request);
  const prompt = texts[texts.length - 1] ?? '';
  const isFollowUp = texts.some((text) => text.includes(REVIEW_REQUEST));
  if (prompt.startsWith(ENDING_REPORT_PROMPT_START)) {
    const title = isFollowUp ? `ENG-123: ${SECOND_COMMIT}` : 'ENG-123: Login fails after session timeout';
    const report = isFollowUp ? '# Review answered\\n\\nThe stale session cookie is now cleared on redirect.\\n' : '# Done\\n\\nAn expired session now redirects to the login page.\\n';
    return {
      items: [{ exec: `mkdir -p agent-meta && printf 'true\\n' > agent-meta/WAS_JOB_SUCCESSFUL && printf '${title}\\n' > agent-meta/meta-info.txt && printf '${report}' > agent-meta/ending-report.md` }],
      usage: { inputTokens: 1200, cachedInputTokens: 800, outputTokens: 90 },
    };
  }
  if (prompt.includes(REVIEW_REQUEST)) {
    return {
      items: [{ exec: `cd repo && printf 'Clear the session cookie on redirect.\\n' >> SESSION.md && git commit --quiet -am '${SECOND_COMMIT}' && git log --format=%s -2` }],
      usage: { inputTokens: 1500, cachedInputTokens: 1100, outputTokens: 120 },
    };
  }
  return {
    items: [
      {
        exec: `cd repo && git checkout --quiet -b ${AGENT_BRANCH} && printf 'Redirect to /login when the session has expired.\\n' > SESSION.md && git add SESSION.md && git commit --quiet -m '${FIRST_COMMIT}' && git log --format=%s -1`,
      },
    ],
    usage: { inputTokens: 2000, cachedInputTokens: 0, outputTokens: 300 },
  };
}

function requestInput(request: ScriptedRequest): Array<Record<string, unknown>> {
  const body = request.body;
  const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)['input'] : undefined;
  return Array.isArray(input) ? input.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item)) : [];
}

export interface FollowUpStack {
  stack: LocalStack;
  github: FakeGitHub;
  /** The pull requests FakeGitHub holds, in the order they were opened or seeded. */
  pulls: FakePullRequest[];
  jira: FakeJira;
  model: ScriptedModel;
  /** The bare repository FakeGitHub serves as acme/sample-app. */
  remote: string;
  webhookUrl: string;
  stop(): Promise<void>;
}

/** Enough scripted turns for both jobs and a few retries; each is answered from its request. */
const MODEL_TURNS = 60;

export async function startFollowUpStack(databaseUrl: string, extra: { conductor?: Record<string, string>; scheduler?: Record<string, string> } = {}): Promise<FollowUpStack> {
  const gitRoot = await mkdtemp(join(tmpdir(), 'e2e-follow-up-github-'));
  const remote = join(gitRoot, 'sample-app.git');
  await ensureSampleRemote(remote);
  const github = await new FakeGitHub({ gitRoot, pushToken: GITHUB_TOKEN }).start();
  const pulls = servePullRequests(github);
  const jira = await new FakeJira(`Basic ${Buffer.from(`${JIRA_EMAIL}:${JIRA_API_TOKEN}`).toString('base64')}`).start();
  const model = await startScriptedModel(Array.from({ length: MODEL_TURNS }, () => scriptedAgentTurn), { apiKey: MODEL_API_KEY });
  let stack: LocalStack;
  try {
    stack = await startLocalStack(
      databaseUrl,
      {
        PUBLISHER: 'github',
        GITHUB_TOKEN,
        GITHUB_API_URL: github.apiUrl,
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        WORKER_AGENT_KIND: 'codex',
        OPENAI_API_KEY: MODEL_API_KEY,
        CODEX_BASE_URL: model.baseUrl,
        JIRA_BASE_URL: jira.url,
        JIRA_EMAIL,
        JIRA_API_TOKEN,
        JIRA_POLL_INTERVAL_MS: '500',
        JIRA_RETRY_BASE_MS: '200',
        JIRA_RETRY_MAX_MS: '2000',
        ...extra.conductor,
      },
      { repository: github.cloneUrl('sample-app'), extraSchedulerEnv: extra.scheduler ?? {} },
    );
  } catch (error) {
    await Promise.all([github.stop(), jira.stop(), model.close()]);
    await rm(gitRoot, { recursive: true, force: true });
    throw error;
  }
  return {
    stack,
    github,
    pulls,
    jira,
    model,
    remote,
    webhookUrl: `${stack.conductorHttp}/webhooks/github`,
    async stop() {
      await stack.stop();
      await Promise.all([github.stop(), jira.stop(), model.close()]);
      await rm(gitRoot, { recursive: true, force: true });
    },
  };
}

export interface ReviewCommentOptions {
  id: number;
  body: string;
  login?: string;
  /** GitHub's author_association; MEMBER has write access. */
  association?: string;
  /** The pull request's state as GitHub reports it in the event; the pull request's own state unless given. */
  state?: 'open' | 'closed';
  path?: string;
  line?: number;
}

/** A `pull_request_review_comment` (action created) on `pull`, shaped as GitHub sends it. */
export function reviewCommentPayload(pull: FakePullRequest, options: ReviewCommentOptions): Record<string, unknown> {
  const state = options.state ?? pull.state;
  const htmlUrl = pullRequestUrl(pull);
  return {
    action: 'created',
    pull_request: {
      number: pull.number,
      html_url: htmlUrl,
      state,
      merged: false,
      merged_at: null,
      title: pull.title,
      head: { ref: pull.headRef, repo: { full_name: REPOSITORY } },
      base: { ref: 'main', repo: { full_name: REPOSITORY } },
    },
    comment: {
      id: options.id,
      body: options.body,
      user: { login: options.login ?? 'octo-reviewer', type: 'User' },
      author_association: options.association ?? 'MEMBER',
      path: options.path ?? 'SESSION.md',
      line: options.line ?? 1,
      original_line: options.line ?? 1,
      created_at: new Date().toISOString(),
      html_url: `${htmlUrl}#discussion_r${options.id}`,
    },
    repository: { full_name: REPOSITORY },
    sender: { login: options.login ?? 'octo-reviewer', type: 'User' },
  };
}
