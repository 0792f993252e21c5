import { describeJsonType, isRecord, JsonRecord, truncate } from './json';

/** The GitHub events the ingress queues: review activity on PRs, and GitHub's own test delivery. */
export const GITHUB_WEBHOOK_EVENTS = ['issue_comment', 'pull_request_review', 'pull_request_review_comment', 'ping'] as const;
export type GitHubWebhookEvent = (typeof GITHUB_WEBHOOK_EVENTS)[number];

export function isGitHubWebhookEvent(event: string): event is GitHubWebhookEvent {
  return (GITHUB_WEBHOOK_EVENTS as readonly string[]).includes(event);
}

/** Said of every GitHub delivery until follow-up jobs exist; the delivery stays stored for when they do. */
export const GITHUB_FOLLOW_UPS_NOT_HANDLED = 'github event: follow-ups not handled yet';

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

/** Why a GitHub delivery was not acted on: its envelope's problem, or that follow-ups do not exist yet. */
export function gitHubWebhookRejection(body: JsonRecord): string {
  const header = body['githubWebhook'];
  if (!isRecord(header)) return `github event: envelope githubWebhook is not an object (got ${describeJsonType(header)})`;
  const { event, deliveryId } = header;
  if (typeof event !== 'string' || !isGitHubWebhookEvent(event)) {
    return `github event: event ${typeof event === 'string' ? `"${truncate(event, 60)}"` : describeJsonType(event)} is not one the ingress accepts (${GITHUB_WEBHOOK_EVENTS.join(', ')})`;
  }
  if (typeof deliveryId !== 'string' || deliveryId === '') return `github event: ${event} has no delivery id (got ${describeJsonType(deliveryId)})`;
  return `${GITHUB_FOLLOW_UPS_NOT_HANDLED} (${event}, delivery ${truncate(deliveryId, 80)})`;
}
