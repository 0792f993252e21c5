import { classifyMessage } from './classify-message';
import {
  addressesAgent,
  decideFollowUp,
  DEFAULT_FOLLOW_UP_POLICY,
  FollowUpPolicy,
  followUpPolicyProblems,
  listedOnThread,
  screenUpdate,
  ThreadLookup,
  UpdateFacts,
} from './follow-up';

const PR = 'https://github.com/acme/app/pull/7';
const ENDED: ThreadLookup = { firstJob: { id: 'job-1', status: 'succeeded', resultBranch: 'agent/ENG-1' }, alreadyRequestedBy: null };

type Json = Record<string, unknown>;

function envelope(event: string, payload: Json): string {
  return JSON.stringify({ githubWebhook: { deliveryId: 'd-1', event }, payload });
}

function comment(overrides: Json = {}): Json {
  return { id: 42, body: '@agent rename it', user: { login: 'octo' }, author_association: 'MEMBER', created_at: '2026-05-12T18:20:00Z', html_url: `${PR}#c42`, ...overrides };
}

function pullRequest(overrides: Json = {}): Json {
  return { html_url: PR, state: 'open', merged: false, merged_at: null, ...overrides };
}

function update(body: string): UpdateFacts {
  const classified = classifyMessage(body);
  if (classified.classification !== 'update') throw new Error(`expected an update, got ${JSON.stringify(classified)}`);
  return classified.update;
}

function reviewComment(overrides: Json = {}, pull: Json = {}): UpdateFacts {
  return update(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(pull), comment: comment({ path: 'src/a.ts', line: 12, original_line: 9, ...overrides }) }));
}

function jiraComment(body: string, author: Json = { displayName: 'Sam Reporter', accountId: 'acc-1' }): UpdateFacts {
  return update(
    JSON.stringify({
      webhookEvent: 'comment_created',
      issue: { id: '10002', key: 'ENG-1', fields: { summary: 'x' } },
      comment: { id: '10500', body, author, created: '2026-05-12T18:20:00.000+0000', self: 'https://example.atlassian.net/rest/api/2/issue/10002/comment/10500' },
    }),
  );
}

const decide = (facts: UpdateFacts, lookup: ThreadLookup = ENDED, policy: FollowUpPolicy = DEFAULT_FOLLOW_UP_POLICY) => decideFollowUp(facts, policy, lookup);

describe('reading update messages', () => {
  it('reads a review comment: id, thread, author, association, body, file and line, url, time and state', () => {
    expect(reviewComment()).toEqual({
      kind: 'comment',
      event: 'pull_request_review_comment',
      comment: {
        source: 'github',
        externalId: 'github:review-comment:42',
        thread: { kind: 'pull-request', url: PR },
        author: 'octo',
        authorAliases: [],
        authorAssociation: 'MEMBER',
        body: '@agent rename it',
        path: 'src/a.ts',
        line: 12,
        url: `${PR}#c42`,
        commentedAt: new Date('2026-05-12T18:20:00Z'),
        pullRequestState: 'open',
      },
    });
  });

  it('takes original_line when the diff moved on (line null)', () => {
    expect(reviewComment({ line: null })).toMatchObject({ comment: { line: 9 } });
  });

  it('reads a submitted review and a comment on a pull request', () => {
    const review = update(envelope('pull_request_review', { action: 'submitted', pull_request: pullRequest(), review: { ...comment({ id: 9 }), created_at: undefined, submitted_at: '2026-05-12T18:21:00Z' } }));
    expect(review).toMatchObject({ kind: 'comment', comment: { externalId: 'github:review:9', path: null, line: null, commentedAt: new Date('2026-05-12T18:21:00Z') } });
    const onPull = update(envelope('issue_comment', { action: 'created', issue: { html_url: PR, state: 'open', pull_request: { html_url: PR } }, comment: comment({ id: 5 }) }));
    expect(onPull).toMatchObject({ kind: 'comment', comment: { externalId: 'github:issue-comment:5', thread: { kind: 'pull-request', url: PR }, pullRequestState: 'open' } });
  });

  it('reads a review without a body as an empty body', () => {
    const review = update(envelope('pull_request_review', { action: 'submitted', pull_request: pullRequest(), review: { ...comment({ body: null }), submitted_at: '2026-05-12T18:21:00Z' } }));
    expect(review).toMatchObject({ comment: { body: '' } });
    expect(decide(review)).toMatchObject({ decision: 'record' });
  });

  it('takes pings, edits and comments on plain issues as notices, recorded with the reason', () => {
    const notices = [
      update(envelope('ping', { zen: 'Design for failure.' })),
      update(envelope('issue_comment', { action: 'edited', issue: { pull_request: { html_url: PR } }, comment: comment() })),
      update(envelope('issue_comment', { action: 'created', issue: { html_url: 'https://github.com/acme/app/issues/3', state: 'open' }, comment: comment() })),
      update(envelope('pull_request_review', { action: 'dismissed', pull_request: pullRequest(), review: comment() })),
      update(envelope('pull_request_review_comment', { action: 'deleted', pull_request: pullRequest(), comment: comment() })),
    ];
    expect(notices.map((facts) => decide(facts))).toEqual([
      { decision: 'record', reason: "github ping: GitHub's test delivery; recorded, it starts nothing" },
      { decision: 'record', reason: 'github issue_comment: action "edited" is recorded only; new comments (created) are read' },
      { decision: 'record', reason: 'github issue_comment: a comment on an issue, not on a pull request; recorded, it starts nothing' },
      { decision: 'record', reason: 'github pull_request_review: action "dismissed" is recorded only; submitted reviews are read' },
      { decision: 'record', reason: 'github pull_request_review_comment: action "deleted" is recorded only; new comments (created) are read' },
    ]);
  });

  it('rejects malformed comments with a clear reason', () => {
    const bad = (body: string): string => {
      const classified = classifyMessage(body);
      return classified.classification === 'rejected' ? classified.reason : `not rejected: ${classified.classification}`;
    };
    expect(bad(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(), comment: comment({ id: undefined }) }))).toBe('github pull_request_review_comment: comment.id is missing');
    expect(bad(envelope('pull_request_review_comment', { action: 'created', pull_request: {}, comment: comment() }))).toBe('github pull_request_review_comment: pull_request.html_url is missing');
    expect(bad(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(), comment: comment({ user: {} }) }))).toBe('github pull_request_review_comment: comment 42 has no user.login');
    expect(bad(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(), comment: comment({ created_at: 'yesterday' }) }))).toBe('github pull_request_review_comment: comment 42 has no valid created_at');
    expect(bad(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(), comment: comment({ body: 7 }) }))).toBe('github pull_request_review_comment: comment 42 body is not text (got number)');
    expect(bad(JSON.stringify({ webhookEvent: 'comment_created', issue: { key: 'ENG-1' } }))).toBe('Jira webhook comment_created has no comment object (got undefined)');
  });

  it('rejects what could not be stored: a NUL in the comment, a pull request URL too long to index', () => {
    const withNul = classifyMessage(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest(), comment: comment({ body: '@agent a\u0000b' }) }));
    expect(withNul).toEqual({ classification: 'rejected', reason: 'the update contains a NUL character (\\u0000), which cannot be stored' });
    const long = `https://github.com/acme/app/pull/${'9'.repeat(300)}`;
    const tooLong = classifyMessage(envelope('pull_request_review_comment', { action: 'created', pull_request: pullRequest({ html_url: long }), comment: comment() }));
    expect(tooLong).toEqual({ classification: 'rejected', reason: `pull request URL is ${long.length} characters long; at most 255 are accepted` });
  });

  it('reads a Jira comment, with the author\'s other names for the system check', () => {
    expect(jiraComment('@agent also fix the logout page')).toEqual({
      kind: 'comment',
      event: 'comment_created',
      comment: {
        source: 'jira',
        externalId: 'jira:comment:10500',
        thread: { kind: 'ticket', key: 'ENG-1' },
        author: 'Sam Reporter',
        authorAliases: ['acc-1'],
        authorAssociation: null,
        body: '@agent also fix the logout page',
        path: null,
        line: null,
        url: 'https://example.atlassian.net/rest/api/2/issue/10002/comment/10500',
        commentedAt: new Date('2026-05-12T18:20:00.000Z'),
        pullRequestState: null,
      },
    });
  });

  it('takes jira:issue_updated as a notice that carries the ticket, for a ticket never seen before', () => {
    const facts = update(JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { key: 'ENG-1', fields: { summary: 'Edited' } } }));
    expect(facts).toMatchObject({ kind: 'notice', source: 'jira', thread: { kind: 'ticket', key: 'ENG-1' }, ticket: { key: 'ENG-1', summary: 'Edited' } });
    expect(decide(facts)).toEqual({
      decision: 'record',
      reason: 'jira:issue_updated of ENG-1: recorded against the ticket (its text is refreshed); an update starts nothing, only a comment addressed to the agent does',
    });
  });
});

describe('who may ask for a follow-up', () => {
  it('starts a follow-up for an addressed comment by a writer on an open pull request the system opened', () => {
    expect(decide(reviewComment())).toEqual({ decision: 'follow-up' });
    expect(decide(reviewComment({ author_association: 'OWNER' }))).toEqual({ decision: 'follow-up' });
    expect(decide(reviewComment({ author_association: 'COLLABORATOR' }))).toEqual({ decision: 'follow-up' });
    expect(decide(jiraComment('@agent also fix the logout page'))).toEqual({ decision: 'follow-up' });
  });

  it('rejects the system\'s own comments: a configured login (any case), the worker\'s reply marker, the Jira report marker', () => {
    const policy = { ...DEFAULT_FOLLOW_UP_POLICY, systemLogins: ['agent-conductor[bot]', 'Conductor Bot'] };
    expect(decide(reviewComment({ user: { login: 'Agent-Conductor[bot]' } }), ENDED, policy)).toEqual({
      decision: 'reject',
      reason: 'github pull_request_review_comment github:review-comment:42 by Agent-Conductor[bot]: written by Agent Conductor itself (a FOLLOW_UP_SYSTEM_LOGINS login); its own comments never start a follow-up',
    });
    expect(decide(jiraComment('@agent hi', { displayName: 'Conductor Bot' }), ENDED, policy)).toMatchObject({ decision: 'reject', reason: expect.stringContaining('written by Agent Conductor itself') });
    expect(decide(jiraComment('@agent hi', { displayName: 'Bot', emailAddress: 'conductor bot' }), ENDED, { ...policy, systemLogins: ['conductor'] })).toEqual({ decision: 'follow-up' });
    expect(decide(reviewComment({ body: '@agent done.\n<!-- agent-conductor: follow-up reply job 1 -->' }))).toEqual({
      decision: 'reject',
      reason: "github pull_request_review_comment github:review-comment:42 by octo: carries Agent Conductor's reply marker, so it is the system's own comment; it never starts a follow-up",
    });
    expect(decide(jiraComment('@agent Agent Conductor finished ENG-1.\nagent-conductor report: job 1 attempt 1'))).toMatchObject({ decision: 'reject', reason: expect.stringContaining("reply marker") });
  });

  it('records a comment not addressed to the agent', () => {
    expect(decide(reviewComment({ body: 'looks good, @agent' }))).toEqual({
      decision: 'record',
      reason: 'github pull_request_review_comment github:review-comment:42 by octo: not addressed to the agent (it does not start with @agent); recorded, it starts nothing',
    });
  });

  it('rejects authors without write access', () => {
    for (const association of ['CONTRIBUTOR', 'FIRST_TIME_CONTRIBUTOR', 'NONE']) {
      expect(decide(reviewComment({ author_association: association }))).toEqual({
        decision: 'reject',
        reason: `github pull_request_review_comment github:review-comment:42 by octo: the author has no write access to the repository (author_association ${association}; OWNER, MEMBER, COLLABORATOR may ask for follow-ups)`,
      });
    }
    expect(decide(reviewComment({ author_association: undefined }))).toMatchObject({ decision: 'reject', reason: expect.stringContaining('author_association missing') });
  });

  it('rejects comments on closed or merged pull requests', () => {
    expect(decide(reviewComment({}, { state: 'closed' }))).toEqual({
      decision: 'reject',
      reason: `github pull_request_review_comment github:review-comment:42 by octo: pull request ${PR} is closed; follow-ups run on open pull requests only`,
    });
    expect(decide(reviewComment({}, { state: 'closed', merged: true }))).toMatchObject({ reason: expect.stringContaining('is merged') });
    const onClosed = update(envelope('issue_comment', { action: 'created', issue: { html_url: PR, state: 'closed', pull_request: { html_url: PR } }, comment: comment() }));
    expect(decide(onClosed)).toMatchObject({ decision: 'reject', reason: expect.stringContaining('is closed') });
  });

  it('rejects a pull request no job opened, and a ticket without an ended job that made a branch', () => {
    expect(decide(reviewComment(), { firstJob: null, alreadyRequestedBy: null })).toEqual({
      decision: 'reject',
      reason: `github pull_request_review_comment github:review-comment:42 by octo: pull request ${PR} was not opened by Agent Conductor (no job has it)`,
    });
    expect(decide(jiraComment('@agent go'), { firstJob: null, alreadyRequestedBy: null })).toMatchObject({ reason: expect.stringContaining('ticket ENG-1 has no job') });
    expect(decide(jiraComment('@agent go'), { firstJob: { id: 'job-1', status: 'running', resultBranch: null }, alreadyRequestedBy: null })).toEqual({
      decision: 'reject',
      reason: "Jira comment_created jira:comment:10500 by Sam Reporter: ticket ENG-1's job job-1 has not ended with a branch (status running); a follow-up continues an ended job's branch",
    });
    expect(decide(jiraComment('@agent go'), { firstJob: { id: 'job-1', status: 'failed', resultBranch: null }, alreadyRequestedBy: null })).toMatchObject({ decision: 'reject' });
    expect(decide(jiraComment('@agent go'), { firstJob: { id: 'job-1', status: 'failed', resultBranch: 'agent/ENG-1' }, alreadyRequestedBy: null })).toEqual({ decision: 'follow-up' });
  });

  it('records a comment delivered again as already requested', () => {
    expect(decide(reviewComment(), { ...ENDED, alreadyRequestedBy: 'job-2' })).toEqual({
      decision: 'record',
      reason: 'github pull_request_review_comment github:review-comment:42 by octo: already requested (follow-up job job-2); recorded, it starts nothing more',
    });
  });

  it('screens without a lookup only what the message alone decides', () => {
    expect(screenUpdate(reviewComment(), DEFAULT_FOLLOW_UP_POLICY)).toBeNull();
    expect(screenUpdate(reviewComment({ body: 'nit' }), DEFAULT_FOLLOW_UP_POLICY)).toMatchObject({ decision: 'record' });
  });
});

describe('which comments that start nothing are listed on their thread', () => {
  const policy = { ...DEFAULT_FOLLOW_UP_POLICY, systemLogins: ['agent-conductor[bot]'] };

  it("lists a person's comment whatever stopped it: not addressed, no write access, a closed pull request", () => {
    expect(listedOnThread(reviewComment({ body: 'nit: rename it' }), policy)).toBe(true);
    expect(listedOnThread(reviewComment({ author_association: 'CONTRIBUTOR' }), policy)).toBe(true);
    expect(listedOnThread(reviewComment({}, { state: 'closed' }), policy)).toBe(true);
    expect(listedOnThread(jiraComment('@agent go'), policy)).toBe(true);
  });

  it("leaves out the system's own comments (its login, its reply or report marker) and notices", () => {
    expect(listedOnThread(reviewComment({ user: { login: 'Agent-Conductor[bot]' } }), policy)).toBe(false);
    expect(listedOnThread(reviewComment({ body: 'Done.\n<!-- agent-conductor: follow-up reply job 1 -->' }), policy)).toBe(false);
    expect(listedOnThread(jiraComment('Agent Conductor finished ENG-1.\nagent-conductor report: job 1 attempt 1'), policy)).toBe(false);
    expect(listedOnThread(update(envelope('pull_request_review_comment', { action: 'edited', pull_request: pullRequest(), comment: comment() })), policy)).toBe(false);
  });
});

describe('the mention', () => {
  it('addresses the agent when the trimmed body starts with it, any case, then whitespace or the end', () => {
    expect(addressesAgent('@agent fix it', '@agent')).toBe(true);
    expect(addressesAgent('  @AGENT\nfix it', '@agent')).toBe(true);
    expect(addressesAgent('@agent', '@agent')).toBe(true);
    expect(addressesAgent('@agents fix it', '@agent')).toBe(false);
    expect(addressesAgent('@agent, fix it', '@agent')).toBe(false);
    expect(addressesAgent('please @agent fix it', '@agent')).toBe(false);
    expect(addressesAgent('', '@agent')).toBe(false);
  });

  it('follows the configured mention', () => {
    const policy = { mention: '@conductor', systemLogins: [] };
    expect(decide(reviewComment({ body: '@conductor rename it' }), ENDED, policy)).toEqual({ decision: 'follow-up' });
    expect(decide(reviewComment({ body: '@agent rename it' }), ENDED, policy)).toMatchObject({ decision: 'record', reason: expect.stringContaining('does not start with @conductor') });
  });

  it('refuses a mention or a login with whitespace', () => {
    expect(followUpPolicyProblems({ mention: '@agent', systemLogins: ['bot'] })).toEqual([]);
    expect(followUpPolicyProblems({ mention: '@ agent', systemLogins: ['a bot'] })).toEqual([
      'follow-up mention must be one word without whitespace',
      'follow-up system login "a bot" must be one word without whitespace',
    ]);
  });
});
