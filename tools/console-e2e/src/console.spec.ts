import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createPrismaClient } from '@agent-conductor/db';
import { ensureSampleRemote, eventually, type LocalStack, startLocalStack, WORKSPACE } from '@agent-conductor/dev-stack';
import { githubReviewEvent } from '@agent-conductor/testing';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeWithBrowser, launchChromium } from './chromium';

const TOKEN = 'console-e2e-token-0123456789abcdef0123456789';
// The screenshots are always taken, but land in docs/images only when asked (`npm run screenshots`): a plain test
// run must not leave the working tree dirty with re-rendered PNGs.
const SCREENSHOTS_DIR = process.env['CONSOLE_SCREENSHOTS_DIR'];
const FIXTURES = join(WORKSPACE, 'tools/e2e/fixtures');
const INCIDENT_ACCOUNT = '444455556666';
// Two accounts of one routing group: the first's incident job waits for approval, so the second's incident joins it.
const GROUP_ACCOUNT = '777788889999';
const ATTACHED_ACCOUNT = '888899990000';
/** A reviewer's comment is anyone's text: markup and script in it must reach the page as text. */
const HOSTILE_COMMENT = [
  '@agent please rename **this** `helper`',
  '<script>document.title = "pwned"</script>',
  '<img src="x" onerror="document.title = \'pwned\'">',
  "[click me](javascript:document.title='pwned')",
].join('\n');
const HOSTILE_REPORT = [
  '',
  '## Injected by the agent',
  '<img src="x" onerror="document.title = \'pwned\'">',
  '<script>document.title = "pwned"</script>',
  "[harmless looking](javascript:document.title='pwned')",
  '',
].join('\n');

/** A Jira issue like the e2e fixture, with its own key, project and summary. */
async function ticket(key: string, summary: string): Promise<string> {
  const issue = JSON.parse(await readFile(join(FIXTURES, 'jira-issue.json'), 'utf8')) as { key: string; fields: { summary: string; project: { key: string } } };
  issue.key = key;
  issue.fields.summary = summary;
  issue.fields.project.key = key.split('-')[0] ?? key;
  return JSON.stringify(issue);
}

async function alarm(name: string, state: 'ALARM' | 'OK', at: Date, account = INCIDENT_ACCOUNT): Promise<string> {
  const event = JSON.parse(await readFile(join(FIXTURES, 'cloudwatch-alarm.eventbridge.json'), 'utf8')) as {
    id: string;
    account: string;
    time: string;
    resources: string[];
    detail: { alarmName: string; state: { value: string } };
  };
  event.id = `${name}-${at.getTime()}`;
  event.account = account;
  event.time = at.toISOString();
  event.resources = [`arn:aws:cloudwatch:us-west-2:${account}:alarm:${name}`];
  event.detail.alarmName = name;
  event.detail.state.value = state;
  return JSON.stringify(event);
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describeWithBrowser('the operator console in Chromium, against the real local stack', () => {
  const databaseUrl = process.env['DATABASE_URL'] ?? '';
  const prisma = createPrismaClient(databaseUrl);
  let dir: string;
  /** Where the screenshots go: CONSOLE_SCREENSHOTS_DIR (relative to the workspace), else the run's temp dir. */
  let screenshots: string;
  let stack: LocalStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageProblems: string[] = [];
  let cancelledJobId = '';

  const send = (body: string) => stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
  const jobIdFromUrl = () => /#\/jobs\/([0-9a-f-]{36})/.exec(page.url())?.[1] ?? '';

  async function openJob(key: string): Promise<string> {
    await page.goto('/#/jobs');
    await page.click(`tr:has(a:text-is("${key}")) a:text-is("${key}")`, { timeout: 60000 });
    await page.waitForSelector('section[aria-label="Actions"]');
    return jobIdFromUrl();
  }

  const jobStatus = (status: string, timeout = 150000) => page.waitForSelector(`h1 [data-status="${status}"]`, { timeout });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-e2e-'));
    const remote = join(dir, 'remote', 'sample-app.git');
    await mkdir(join(dir, 'remote'), { recursive: true });
    await ensureSampleRemote(remote);
    const billing = join(dir, 'remote', 'billing.git');
    await ensureSampleRemote(billing);
    // HOLD tickets wait for an operator's approval; the grouped accounts' incidents share a job over two
    // repositories (held too, so that the second account's incident finds it pending); the rest takes the default.
    const routingFile = join(dir, 'routing.json');
    await writeFile(
      routingFile,
      JSON.stringify({
        default: { repository: remote, branch: 'main' },
        tickets: [{ match: { project: 'HOLD' }, repository: remote, approval: 'required' }],
        incidents: [
          { account: GROUP_ACCOUNT, group: 'checkout', repositories: [{ repository: remote, branch: 'main' }, { repository: billing, branch: 'main' }], approval: 'required' },
          { account: ATTACHED_ACCOUNT, group: 'checkout', repository: billing, branch: 'main' },
        ],
      }),
    );
    // A SLOW ticket's agent works for ten minutes: long enough to be seen running and cancelled. A HOSTILE ticket's
    // agent ends its report with HTML and a javascript: link, as a compromised agent could.
    await chmod(dir, 0o711);
    const hostileReport = join(dir, 'hostile-report.md');
    await writeFile(hostileReport, HOSTILE_REPORT, { mode: 0o644 });
    const demoAgent = join(WORKSPACE, 'tools/demo-agent/demo-agent.sh');
    const agentCommand =
      `sh -c 'if grep -q SLOW TASK.md; then DEMO_AGENT_SLEEP_SECONDS=600 exec bash ${demoAgent}; fi; bash ${demoAgent} || exit $?; ` +
      `if grep -q HOSTILE TASK.md; then cat ${hostileReport} >> agent-meta/ending-report.md; fi'`;
    stack = await startLocalStack(
      databaseUrl,
      { CONSOLE_TOKEN: TOKEN, WORKER_AGENT_COMMAND: agentCommand, CANCEL_GRACE_SECONDS: '10', MAX_ACTIVE_JOBS: '5', REPO_MAX_ACTIVE_JOBS: '5' },
      { repository: remote, extraSchedulerEnv: { ROUTING_FILE: routingFile }, dirPrefix: 'console-e2e-stack-' },
    );
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: stack.conductorHttp, viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(30000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) pageProblems.push(`CSP: ${message.text()}`);
    });
    screenshots = SCREENSHOTS_DIR ? resolve(WORKSPACE, SCREENSHOTS_DIR) : join(dir, 'screenshots');
    await mkdir(screenshots, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await prisma.$disconnect();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends a visitor without a session to the login page, refuses a wrong token and signs in with the right one', async () => {
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.fill('#token', 'not-the-token-not-the-token-not-the-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('#login-message:text("not valid")');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('h1:text-is("Overview")');
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.textContent('[aria-label="Active agents"] .big')).toMatch(/^\d+ \/ 5$/);
  });

  it('shows a pushed ticket appear in the jobs list and succeed, with its PR, report, timeline and transcript', async () => {
    await send(await ticket('ENG-301', 'Login fails after session timeout'));
    await page.goto('/#/jobs');
    await page.waitForSelector('tr:has(a:text-is("ENG-301")) [data-status="succeeded"]', { timeout: 150000 });

    await page.click('a:text-is("ENG-301")');
    await jobStatus('succeeded');
    const job = await prisma.job.findFirstOrThrow({ where: { key: 'ENG-301' } });
    const pullRequest = (job.result as { pullRequest?: string } | null)?.pullRequest ?? '';
    expect(pullRequest).toBeTruthy();
    expect(await page.getAttribute('a.pr-link', 'href')).toBe(pullRequest);
    await page.waitForSelector('.markdown :is(h1, h2, p)');
    expect(await page.locator('svg.timeline rect.attempt-bar').count()).toBe(1);
    expect(await page.locator('button.action-rerun').isVisible()).toBe(true);
    expect(await page.locator('button.action-cancel').count()).toBe(0);
    if (await page.locator('details.transcript-details').isVisible()) {
      await page.click('details.transcript-details summary');
      await page.waitForFunction(() => (document.querySelector('pre.transcript')?.textContent ?? 'loading…') !== 'loading…');
    }
    await page.screenshot({ path: join(screenshots, 'console-job-detail.png'), fullPage: true });
  });

  it("shows a review comment's follow-up: the thread, the comment as text with its file and line, and the pull request it pushed to", async () => {
    const first = await prisma.job.findFirstOrThrow({ where: { key: 'ENG-301', followUpOfId: null } });
    const pullRequest = first.pullRequest ?? '';
    expect(pullRequest).not.toBe('');
    await send(githubReviewEvent('pull_request_review_comment', { pullRequest, id: 4242, body: HOSTILE_COMMENT, path: 'src/app.ts', line: 12 }));
    const followUp = await eventually('the follow-up job', async () => (await prisma.job.findFirst({ where: { followUpOfId: first.id } })) ?? undefined, 60000);

    await page.goto(`/#/jobs/${followUp.id}`);
    await jobStatus('succeeded');
    expect(await page.getAttribute('a.follow-up-of', 'href')).toBe(`#/jobs/${first.id}`);
    const request = page.locator('section[aria-label="Follow-up requests"] article.follow-up-request');
    expect(await request.count()).toBe(1);
    expect(await request.locator('.request-author').textContent()).toBe('octo-reviewer');
    expect(await request.locator('.request-place').textContent()).toBe('src/app.ts:12');
    expect(await request.locator('a.request-link').getAttribute('href')).toBe(`${pullRequest}#discussion_r4242`);
    // The comment is shown exactly as written, as text: no element of it reached the page, nothing in it ran.
    expect(await request.locator('pre.request-body').textContent()).toBe(HOSTILE_COMMENT);
    expect(await request.locator('pre.request-body *').count()).toBe(0);
    expect(await page.locator('main :is(script, img, iframe)').count()).toBe(0);
    expect(await page.title()).toBe('Agent Conductor');
    // The thread: its first job, the pull request, and this follow-up with the one request it answered.
    const thread = page.locator('section[aria-label="Follow-up thread"]');
    expect(await thread.locator('a.thread-first').getAttribute('href')).toBe(`#/jobs/${first.id}`);
    expect(await thread.locator('.thread-pr').textContent()).toBe(pullRequest);
    await thread.locator(`tr[data-follow-up-id="${followUp.id}"] [data-status="succeeded"]`).waitFor();
    expect(await thread.locator(`tr[data-follow-up-id="${followUp.id}"] td.num`).textContent()).toBe('1');
    expect(await page.getAttribute('a.pr-link', 'href')).toBe(pullRequest);
    await page.screenshot({ path: join(screenshots, 'console-follow-up.png'), fullPage: true });

    // From the first job's page the follow-up is one click away, and the jobs list marks it.
    await page.click('a.follow-up-of');
    await page.waitForSelector(`section[aria-label="Follow-up thread"] tr[data-follow-up-id="${followUp.id}"] a[href="#/jobs/${followUp.id}"]`);
    expect(await page.locator('section[aria-label="Follow-up requests"]').count()).toBe(0);

    // A comment the rules refuse (its author has no write access) starts nothing, and every page of the thread lists
    // it with the reason and its delivery, the comment again as text.
    await send(githubReviewEvent('pull_request_review_comment', { pullRequest, id: 4243, body: HOSTILE_COMMENT, path: 'src/app.ts', line: 14, login: 'drive-by', association: 'NONE' }));
    const refused = await eventually('the refused comment', async () => (await prisma.delivery.findFirst({ where: { threadJobId: first.id } })) ?? undefined, 60000);
    expect(refused.classification).toBe('rejected');
    await page.goto(`/#/jobs/${followUp.id}`);
    const notActedOn = page.locator(`section[aria-label="Comments not acted on"] article[data-delivery-id="${refused.id}"]`);
    await notActedOn.waitFor();
    expect(await notActedOn.locator('.request-author').textContent()).toBe('drive-by');
    expect(await notActedOn.locator('.request-place').textContent()).toBe('src/app.ts:14');
    expect(await notActedOn.locator('.not-acted-on-reason').textContent()).toBe(refused.rejectionReason);
    expect(refused.rejectionReason).toContain('no write access');
    expect(await notActedOn.locator(`a[href="#/deliveries/${refused.id}"]`).count()).toBe(1);
    expect(await notActedOn.locator('pre.request-body').textContent()).toBe(HOSTILE_COMMENT);
    expect(await notActedOn.locator('pre.request-body *').count()).toBe(0);
    expect(await page.locator('main :is(script, img, iframe)').count()).toBe(0);
    expect(await page.title()).toBe('Agent Conductor');
    await page.locator('section[aria-label="Comments not acted on"]').screenshot({ path: join(screenshots, 'console-not-acted-on.png') });
    await page.goto('/#/jobs');
    await page.waitForSelector(`tr[data-job-id="${followUp.id}"] .tag:text-is("follow-up")`);
  });

  it('cancels a running job: it ends cancelled and its worker process is gone', async () => {
    await send(await ticket('SLOW-1', 'SLOW agent that works for ten minutes'));
    cancelledJobId = await openJob('SLOW-1');
    await jobStatus('running', 120000);
    const worker = await prisma.worker.findFirstOrThrow({ where: { jobId: cancelledJobId } });
    const pid = Number(worker.launcherHandle);
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    expect(processGone(pid)).toBe(false);

    await page.fill('#action-reason', 'wrong ticket');
    await page.click('button.action-cancel');
    await jobStatus('cancelled', 90000);
    await eventually(`worker process ${pid} to exit`, async () => (processGone(pid) ? true : undefined), 60000);
    await page.waitForSelector('section[aria-label="Audit"] tr:has-text("cancel"):has-text("token")');
  });

  it('re-runs the cancelled job as a new job linked to it', async () => {
    await page.click('button.action-rerun');
    await page.waitForFunction((old) => /#\/jobs\/[0-9a-f-]{36}/.test(location.hash) && !location.hash.includes(old), cancelledJobId);
    const rerunId = jobIdFromUrl();
    await page.waitForSelector(`a[href="#/jobs/${cancelledJobId}"]`);
    const rerun = await prisma.job.findUniqueOrThrow({ where: { id: rerunId } });
    expect(rerun.rerunOfId).toBe(cancelledJobId);
    // It goes through admission like any job: it starts, and is cancelled again so that the stack stops cleanly.
    await jobStatus('running', 120000);
    await page.click('button.action-cancel');
    await jobStatus('cancelled', 90000);
  });

  it('holds a job that needs approval until an operator approves it, then runs it', async () => {
    await send(await ticket('HOLD-7', 'Rotate the signing key'));
    await openJob('HOLD-7');
    await page.waitForSelector('.waiting:has-text("approval")');
    expect(await page.locator('[data-status="pending"]').count()).toBe(1);
    await page.click('button.action-approve');
    await jobStatus('succeeded');
    await page.waitForSelector('section[aria-label="Audit"] tr:has-text("approve"):has-text("token")');
  });

  it("plots an incident's alarms on a time axis with its window and cap", async () => {
    const now = Date.now();
    const minutes = (m: number) => new Date(now - m * 60_000);
    for (const [name, at] of [
      ['orders-5xx', minutes(70)],
      ['orders-latency', minutes(40)],
      ['orders-5xx', minutes(15)],
    ] as const) {
      await send(await alarm(name, 'ALARM', at));
    }
    // A recovery is recorded against the incident that exists when it arrives: send it once the incident has its alarms.
    await eventually(
      'the incident with three alarms',
      async () => ((await prisma.incident.findFirst({ where: { account: INCIDENT_ACCOUNT } }))?.alarmCount === 3 ? true : undefined),
      60000,
    );
    await send(await alarm('orders-5xx', 'OK', minutes(5)));
    await eventually('the recovery on the incident', async () => ((await prisma.alarm.count({ where: { account: INCIDENT_ACCOUNT, incidentId: { not: null } } })) === 4 ? true : undefined), 60000);
    await page.goto('/#/incidents');
    await page.click(`tr:has-text("${INCIDENT_ACCOUNT}") a`, { timeout: 60000 });
    await eventually(
      'four alarms on the plot',
      async () => ((await page.locator('svg.incident-plot circle.alarm').count()) === 4 ? true : undefined),
      30000,
    );
    expect(await page.locator('svg.incident-plot circle.alarm-ALARM').count()).toBe(3);
    expect(await page.locator('svg.incident-plot rect.reach').count()).toBe(3);
    expect(await page.textContent('svg.incident-plot text.window-label')).toContain('60 min');
    expect(await page.textContent('svg.incident-plot text.cap-label')).toContain('24 h');
    await page.screenshot({ path: join(screenshots, 'console-incident.png'), fullPage: true });
  });

  it("shows a job over two accounts' incidents and two repositories, each changed repository with its pull request", async () => {
    const now = Date.now();
    await send(await alarm('checkout-5xx', 'ALARM', new Date(now - 20 * 60_000), GROUP_ACCOUNT));
    const job = await eventually('the group job, held for approval', async () => (await prisma.job.findFirst({ where: { kind: 'incident', key: GROUP_ACCOUNT } })) ?? undefined, 60000);
    await send(await alarm('billing-latency', 'ALARM', new Date(now - 10 * 60_000), ATTACHED_ACCOUNT));
    await eventually('the second account attached', async () => ((await prisma.incident.count({ where: { jobId: job.id } })) === 2 ? true : undefined), 60000);
    const attached = await prisma.incident.findFirstOrThrow({ where: { account: ATTACHED_ACCOUNT } });

    await page.goto(`/#/jobs/${job.id}`);
    const incidents = page.locator('section[aria-label="Incidents"]');
    await incidents.locator(`tr[data-incident-id="${attached.id}"]`).waitFor();
    expect(await incidents.locator('tr[data-incident-id] td:nth-child(2)').allTextContents()).toEqual([GROUP_ACCOUNT, ATTACHED_ACCOUNT]);
    expect(await incidents.locator(`tr[data-incident-id="${attached.id}"] a`).getAttribute('href')).toBe(`#/incidents/${attached.id}`);
    const repositories = page.locator('section[aria-label="Repositories"] tr[data-repository]');
    expect(await repositories.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-repository')))).toEqual(['sample-app', 'billing']);

    await page.click('button.action-approve');
    // The action's answer is { job }: the notice names the state it left the job in.
    await page.locator('.notice', { hasText: /^Approve: done, the job is (pending|launching|running|succeeded)\.$/ }).waitFor({ timeout: 10000 });
    await jobStatus('succeeded');
    const changes = ((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).result as { changes?: Array<{ name: string; pullRequest: string }> } | null)?.changes ?? [];
    expect(changes.map((change) => change.name)).toEqual(['sample-app', 'billing']);
    await page.waitForSelector('section[aria-label="Repositories"] tr[data-repository="billing"] .repository-pr');
    for (const change of changes) {
      expect(await page.getAttribute(`section[aria-label="Repositories"] tr[data-repository="${change.name}"] .repository-pr`, 'href')).toBe(change.pullRequest);
    }
    await page.screenshot({ path: join(screenshots, 'console-several-accounts.png'), fullPage: true });
    await incidents.locator(`tr[data-incident-id="${attached.id}"] a`).click();
    await page.waitForSelector(`h1:has-text("Incident ${ATTACHED_ACCOUNT}")`);
  });

  it("shows an agent's hostile report as text: nothing in it runs or loads", async () => {
    await send(await ticket('ENG-666', 'HOSTILE agent report'));
    await openJob('ENG-666');
    await jobStatus('succeeded');
    await page.waitForSelector('.markdown h2:text("Injected by the agent")');
    expect(await page.locator('.markdown :is(img, script, iframe, svg)').count()).toBe(0);
    expect(await page.locator('.markdown a[href^="javascript"]').count()).toBe(0);
    expect(await page.textContent('.markdown')).toContain('<img src="x" onerror=');
    expect(await page.title()).toBe('Agent Conductor');
  });

  it('lists rejected deliveries with their reason and shows the raw body', async () => {
    const garbage = '{"not": "a ticket"';
    await send(garbage);
    await page.goto('/#/deliveries');
    await page.check('#rejected-only');
    await page.waitForURL(/rejected=true/);
    const row = page.locator('tr[data-delivery-id]', { hasText: 'rejected' }).first();
    await row.waitFor({ timeout: 60000 });
    // The filter holds: the tickets' and alarms' deliveries are not in the list.
    expect(new Set(await page.locator('tr[data-delivery-id] td:nth-child(2)').allTextContents())).toEqual(new Set(['rejected']));
    expect(await row.textContent()).toMatch(/JSON/i);
    await row.locator('a').click();
    expect(await page.textContent('pre.raw-body')).toBe(garbage);
  });

  it('sums up the last 24 hours on the overview, cancelled jobs too', async () => {
    const succeeded = await prisma.job.count({ where: { status: 'succeeded' } });
    const cancelled = await prisma.job.count({ where: { status: 'cancelled' } });
    await page.goto('/#/');
    await page.waitForSelector('[aria-label="Last 24 hours"] dd');
    expect(await page.textContent('[aria-label="Last 24 hours"] dt:text-is("succeeded") + dd')).toBe(String(succeeded));
    expect(await page.textContent('[aria-label="Last 24 hours"] dt:text-is("cancelled") + dd')).toBe(String(cancelled));
    expect(await page.textContent('[aria-label="Active agents"] .big')).toMatch(/^\d+ \/ 5$/);
  });

  it('shows every job of the run in the list, a held one with its waiting reason', async () => {
    await send(await ticket('HOLD-8', 'Upgrade the payment SDK'));
    await page.goto('/#/jobs');
    await page.waitForSelector('tr:has(a:text-is("HOLD-8")) td:has-text("approval")', { timeout: 60000 });
    const listed = await page.locator('tr[data-job-id]').count();
    expect(listed).toBe(await prisma.job.count());
    await page.screenshot({ path: join(screenshots, 'console-jobs.png') });
  });

  it('broke no Content-Security-Policy rule and threw no script error on any page', () => {
    expect(pageProblems).toEqual([]);
  });
});
