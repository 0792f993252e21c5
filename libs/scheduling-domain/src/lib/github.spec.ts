import { classifyMessage } from './classify-message';
import { GITHUB_FOLLOW_UPS_NOT_HANDLED, gitHubWebhookEnvelope } from './github';

function rejection(body: unknown): string {
  const result = classifyMessage(JSON.stringify(body));
  if (result.classification !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('classifying a GitHub webhook envelope from the ingress', () => {
  it.each(['issue_comment', 'pull_request_review', 'pull_request_review_comment', 'ping'] as const)(
    'records %s as not handled yet, naming the event and delivery, not as an unknown shape',
    (event) => {
      const reason = rejection(gitHubWebhookEnvelope('72d3162e-cc78-11e3-81ab-4c9367dc0958', event, { action: 'created', comment: { body: '@agent fix it' } }));
      expect(reason).toBe(`${GITHUB_FOLLOW_UPS_NOT_HANDLED} (${event}, delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958)`);
      expect(reason).toBe(`github event: follow-ups not handled yet (${event}, delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958)`);
    },
  );

  it('says what is wrong with a malformed envelope', () => {
    expect(rejection({ githubWebhook: 'push', payload: {} })).toBe('github event: envelope githubWebhook is not an object (got string)');
    expect(rejection({ githubWebhook: { event: 'push', deliveryId: 'd-1' }, payload: {} })).toMatch(/^github event: event "push" is not one the ingress accepts \(issue_comment, /);
    expect(rejection({ githubWebhook: { event: 'ping' }, payload: {} })).toBe('github event: ping has no delivery id (got undefined)');
  });
});
