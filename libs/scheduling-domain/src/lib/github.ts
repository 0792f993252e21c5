import { JsonRecord } from './json';

/** The GitHub events the ingress queues: review activity on PRs, and GitHub's own test delivery. */
export const GITHUB_WEBHOOK_EVENTS = ['issue_comment', 'pull_request_review', 'pull_request_review_comment', 'ping'] as const;
export type GitHubWebhookEvent = (typeof GITHUB_WEBHOOK_EVENTS)[number];

export function isGitHubWebhookEvent(event: string): event is GitHubWebhookEvent {
  return (GITHUB_WEBHOOK_EVENTS as readonly string[]).includes(event);
}

/**
 * What the ingress puts on the intake queue: the webhook's headers the scheduler needs beside the payload as GitHub
 * sent it. The `githubWebhook` key is what tells it apart from a Jira or CloudWatch message.
 */
export interface GitHubWebhookEnvelope {
  githubWebhook: { deliveryId: string; event: GitHubWebhookEvent };
  payload: unknown;
}

export function gitHubWebhookEnvelope(deliveryId: string, event: GitHubWebhookEvent, payload: unknown): GitHubWebhookEnvelope {
  return { githubWebhook: { deliveryId, event }, payload };
}

export function looksLikeGitHubWebhook(body: JsonRecord): boolean {
  return 'githubWebhook' in body;
}
