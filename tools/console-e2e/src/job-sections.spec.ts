import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, pageWithConsoleModule } from './chromium';

const JOB_DETAIL_MODULE = resolve(__dirname, '../../../apps/console-ui/src/pages/job-detail.ts');

/** Anyone may comment on a pull request: each of these would set window.pwned, or add an element, if rendered. */
const HOSTILE_COMMENT = [
  '@agent <script>window.pwned = "script"</script>',
  '<img src="x" onerror="window.pwned = \'img\'">',
  "[click](javascript:window.pwned='link')",
].join('\n');

/** What GET /api/v1/jobs/:id answers for one comment not acted on (docs/console.md). */
interface ShownComment {
  deliveryId: string;
  receivedAt: string;
  classification: string;
  reason: string | null;
  source: string;
  author: string;
  body: string;
  bodyTruncated: boolean;
  path: string | null;
  line: number | null;
  url: string | null;
  commentedAt: string;
}

const COMMENT: ShownComment = {
  deliveryId: '0195f3a4-7b1c-7d2e-9f00-123456789abc',
  receivedAt: '2026-11-01T10:01:00.000Z',
  classification: 'rejected',
  reason: 'github pull_request_review_comment github:review-comment:9 by drive-by: the author has no write access to the repository',
  source: 'github',
  author: 'drive-by',
  body: HOSTILE_COMMENT,
  bodyTruncated: false,
  path: 'src/app.ts',
  line: 14,
  url: 'javascript:window.pwned=1',
  commentedAt: '2026-11-01T10:00:00.000Z',
};

/*
 * The job page's "Comments not acted on" section as the console bundles it, rendered in a page without the CSP, so
 * the text-only rendering alone must hold. The full page against the running stack is in console.spec.ts.
 */
describeWithBrowser("the job page's comments not acted on (real Chromium)", () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await pageWithConsoleModule(JOB_DETAIL_MODULE, 'consoleJobDetail'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function render(job: { commentsNotActedOn: ShownComment[]; commentsNotActedOnTruncated: boolean }): Promise<void> {
    await page.evaluate((shown) => {
      const lib = (window as unknown as { consoleJobDetail: { notActedOnSection(job: unknown): HTMLElement | null } }).consoleJobDetail;
      const section = lib.notActedOnSection(shown);
      document.getElementById('out')?.replaceChildren(...(section ? [section] : []));
    }, job);
    // Event handlers such as onerror fire asynchronously.
    await page.waitForTimeout(300);
  }

  it('shows each comment with its author, place, reason and delivery, its text as text, and runs nothing', async () => {
    await render({ commentsNotActedOn: [COMMENT, { ...COMMENT, deliveryId: '0195f3a4-7b1c-7d2e-9f00-123456789abd', classification: 'update', reason: 'not addressed to the agent', path: null, line: null, url: 'https://github.com/acme/app/pull/7#c1', body: 'nit' }], commentsNotActedOnTruncated: true });
    const section = page.locator('section[aria-label="Comments not acted on"]');
    expect(await section.locator('h2').textContent()).toBe('Comments not acted on (2+)');
    const refused = section.locator(`article[data-delivery-id="${COMMENT.deliveryId}"]`);
    expect(await refused.locator('.request-author').textContent()).toBe('drive-by');
    expect(await refused.locator('.request-place').textContent()).toBe('src/app.ts:14');
    expect(await refused.locator('.tag').allTextContents()).toEqual(['github', 'refused']);
    expect(await refused.locator('.not-acted-on-reason').textContent()).toBe(COMMENT.reason);
    expect(await refused.locator(`a[href="#/deliveries/${COMMENT.deliveryId}"]`).count()).toBe(1);
    expect(await refused.locator('pre.request-body').textContent()).toBe(HOSTILE_COMMENT);
    expect(await refused.locator('pre.request-body *').count()).toBe(0);
    // A javascript: URL is no link.
    expect(await refused.locator('a.request-link').count()).toBe(0);
    const recorded = section.locator('article').nth(1);
    expect(await recorded.locator('.tag').allTextContents()).toEqual(['github', 'recorded']);
    expect(await recorded.locator('.request-place').textContent()).toBe('the pull request');
    expect(await recorded.locator('a.request-link').getAttribute('href')).toBe('https://github.com/acme/app/pull/7#c1');
    expect(await section.locator('p.empty').textContent()).toContain('Only the latest 2');
    expect(await page.locator('#out :is(script, img, iframe)').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: unknown }).pwned)).toBeUndefined();
  });

  it('shows nothing when every comment was acted on', async () => {
    await render({ commentsNotActedOn: [], commentsNotActedOnTruncated: false });
    expect(await page.locator('#out section').count()).toBe(0);
  });
});
