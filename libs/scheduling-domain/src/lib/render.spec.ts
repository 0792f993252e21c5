import { fixture } from '../test-support/fixtures';
import { isAlarmActive } from './alarm';
import { classifyMessage } from './classify-message';
import { renderAgentsFile } from './render-agents-file';
import { renderTicketTask } from './render-ticket-task';
import { AlarmFacts, JobKind, TicketFacts } from './types';

const ticket: TicketFacts = {
  key: 'ENG-123',
  externalId: '10002',
  projectKey: 'ENG',
  summary: 'Login fails after session timeout',
  description: 'Users are redirected.\n\n- Reproduces in Chrome.',
  labels: ['auth', 'session'],
  components: ['Authentication'],
  issueType: 'Bug',
  priority: 'High',
};

describe('renderTicketTask', () => {
  it('renders heading, metadata and description', () => {
    expect(renderTicketTask(ticket)).toBe(
      [
        '# ENG-123: Login fails after session timeout',
        '',
        '- **Project:** ENG',
        '- **Type:** Bug',
        '- **Priority:** High',
        '- **Labels:** auth, session',
        '- **Components:** Authentication',
        '',
        '## Description',
        '',
        'Users are redirected.',
        '',
        '- Reproduces in Chrome.',
        '',
      ].join('\n'),
    );
  });

  it('leaves out metadata that is absent and says when there is no description', () => {
    const bare: TicketFacts = { ...ticket, projectKey: null, issueType: null, priority: null, labels: [], components: [], description: '' };
    const task = renderTicketTask(bare);
    expect(task).toBe('# ENG-123: Login fails after session timeout\n\n## Description\n\n_No description was given; work from the summary._\n');
  });

  it('uses the bare key as heading when there is no summary', () => {
    expect(renderTicketTask({ ...ticket, summary: '' }).split('\n')[0]).toBe('# ENG-123');
  });

  it('renders the Jira fixture end to end from the classified message', () => {
    const result = classifyMessage(fixture('jira-issue.json'));
    if (result.classification !== 'ticket') throw new Error(JSON.stringify(result));
    const task = renderTicketTask(result.ticket);
    expect(task).toContain('# ENG-123: Login fails after session timeout\n');
    expect(task).toContain('## Description\n\nUsers are redirected to a blank page after their session expires.\n\n- Reproduces in Chrome and Firefox.\n');
  });
});

describe('renderAgentsFile', () => {
  const kinds: JobKind[] = ['ticket', 'incident'];

  it.each(kinds)('%s template describes the whole artifact protocol', (kind) => {
    const agents = renderAgentsFile(kind);
    for (const path of ['TASK.md', 'repo/', 'agent-meta/WAS_JOB_SUCCESSFUL', 'agent-meta/meta-info.txt', 'agent-meta/ending-report.md']) {
      expect(agents).toContain(path);
    }
    expect(agents).toMatch(/exactly `true` or `false`/);
    expect(agents).toMatch(/line 1 is the pull request title/);
    expect(agents).toMatch(/feature branch/);
    expect(agents).toMatch(/clean working tree/);
    expect(agents).toMatch(/Do not push/);
  });

  it('ticket template asks for the ticket to be implemented', () => {
    expect(renderAgentsFile('ticket')).toMatch(/Implement it in `repo\/`/);
  });

  it('incident template asks for a root cause and a report-only outcome when no code change is warranted', () => {
    const agents = renderAgentsFile('incident');
    expect(agents).toMatch(/root cause/);
    expect(agents).toMatch(/If no code change is warranted[^\n]*\n[^\n]*report `true` with `report` in `agent-meta\/OUTCOME`/);
    expect(agents).toMatch(/Optionally, `agent-meta\/OUTCOME`: exactly `report`/);
    expect(agents).not.toBe(renderAgentsFile('ticket'));
  });

  it('refuses a kind it has no template for', () => {
    const untyped = renderAgentsFile as (kind: string) => string;
    expect(() => untyped('cleanup')).toThrow(/no AGENTS.md template for job kind "cleanup"/);
  });
});

describe('isAlarmActive', () => {
  const alarm: AlarmFacts = {
    account: '123456789012',
    region: 'us-west-2',
    alarmName: 'api-high-cpu',
    state: 'ALARM',
    reason: null,
    eventTime: new Date(0),
    alarmArn: null,
    metrics: [],
  };

  it.each([
    ['ALARM', true],
    ['OK', false],
    ['INSUFFICIENT_DATA', false],
  ] as const)('%s → %s', (state, active) => {
    expect(isAlarmActive({ ...alarm, state })).toBe(active);
  });
});
