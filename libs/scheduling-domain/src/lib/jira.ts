import { flattenAdf } from './adf';
import { array, describeJsonType, fail, isRecord, JsonRecord, nonEmptyString, ok, Parsed, record, truncate } from './json';
import { TicketFacts } from './types';

/** The Jira webhook events the scheduler reads; `comment_created` is a follow-up's (docs/follow-ups.md). */
export const SUPPORTED_WEBHOOK_EVENTS: readonly string[] = ['jira:issue_created', 'jira:issue_updated', 'comment_created'];

export function looksLikeJiraWebhook(body: JsonRecord): boolean {
  return 'webhookEvent' in body;
}

/** A REST issue is recognised by its `fields` object; its validity is checked by parseJiraIssue. */
export function looksLikeJiraIssue(body: JsonRecord): boolean {
  return 'fields' in body;
}

export function parseJiraWebhook(body: JsonRecord): Parsed<TicketFacts> {
  const event = body['webhookEvent'];
  if (typeof event !== 'string' || event.trim() === '') {
    return fail(`Jira webhook has no webhookEvent name (got ${describeJsonType(event)})`);
  }
  if (!SUPPORTED_WEBHOOK_EVENTS.includes(event)) {
    return fail(
      `Jira webhook event "${truncate(event, 60)}" is not supported (accepted: ${SUPPORTED_WEBHOOK_EVENTS.join(', ')})`,
    );
  }
  const issue = body['issue'];
  if (!isRecord(issue)) {
    return fail(`Jira webhook ${event} has no issue object (got ${describeJsonType(issue)})`);
  }
  return parseJiraIssue(issue);
}

export function parseJiraIssue(issue: JsonRecord): Parsed<TicketFacts> {
  const fields = issue['fields'];
  if (!isRecord(fields)) {
    return fail(`Jira issue "fields" is not an object (got ${describeJsonType(fields)})`);
  }

  const externalId = issueId(issue['id']);
  // Jira always sends a key, but a hand-built or trimmed payload may only carry the numeric id.
  const key = nonEmptyString(issue['key']) ?? externalId;
  if (key === null) return fail('Jira issue has neither a key nor an id');

  const summary = collapseWhitespace(typeof fields['summary'] === 'string' ? fields['summary'] : '');
  const description = flattenAdf(fields['description']).trim();
  if (summary === '' && description === '') {
    return fail(`Jira issue ${truncate(key, 60)} has neither a summary nor description text`);
  }

  return ok({
    key,
    externalId,
    projectKey: nonEmptyString(record(fields['project'])['key']),
    summary,
    description,
    labels: array(fields['labels'])
      .map(nonEmptyString)
      .filter((label): label is string => label !== null),
    components: array(fields['components'])
      .map((component) => nonEmptyString(record(component)['name']))
      .filter((name): name is string => name !== null),
    issueType: nonEmptyString(record(fields['issuetype'])['name']),
    priority: nonEmptyString(record(fields['priority'])['name']),
  });
}

function issueId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nonEmptyString(value);
}

// A summary is a single line in Jira; stray newlines would break the TASK.md heading.
function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
