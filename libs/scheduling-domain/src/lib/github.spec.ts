import { classifyMessage } from './classify-message';
import { gitHubWebhookEnvelope } from './github';

function rejection(body: unknown): string {
  const result = classifyMessage(JSON.stringify(body));
  if (result.classification !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('classifying a GitHub webhook envelope from the ingress', () => {
  it('takes every queued event as an update, not as an unknown shape', () => {
    const classified = classifyMessage(JSON.stringify(gitHubWebhookEnvelope('72d3162e-cc78-11e3-81ab-4c9367dc0958', 'ping', { zen: 'Keep it logically awesome.' })));
    expect(classified).toMatchObject({ classification: 'update', source: 'github', update: { kind: 'notice', event: 'ping' } });
  });

  it('says what is wrong with a malformed envelope', () => {
    expect(rejection({ githubWebhook: 'push', payload: {} })).toBe('github event: envelope githubWebhook is not an object (got string)');
    expect(rejection({ githubWebhook: { event: 'push', deliveryId: 'd-1' }, payload: {} })).toMatch(/^github event: event "push" is not one the ingress accepts \(issue_comment, /);
    expect(rejection({ githubWebhook: { event: 'ping' }, payload: {} })).toBe('github event: ping has no delivery id (got undefined)');
    expect(rejection({ githubWebhook: { event: 'ping', deliveryId: 'd-1' }, payload: [] })).toBe('github event: ping payload is not an object (got array)');
  });
});
