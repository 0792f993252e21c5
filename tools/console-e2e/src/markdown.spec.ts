import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithBrowser, pageWithConsoleModule } from './chromium';

const MARKDOWN_MODULE = resolve(__dirname, '../../../apps/console-ui/src/markdown.ts');

/** Payloads an agent could put in its ending report; each would set window.pwned if it ran. */
const HOSTILE = [
  '<script>window.pwned = "script"</script>',
  '<img src="x" onerror="window.pwned = \'img\'">',
  '<svg onload="window.pwned = \'svg\'"></svg>',
  '[click](javascript:window.pwned=%22link%22)',
  '<a href="javascript:window.pwned=1">raw link</a>',
  '![x](javascript:window.pwned=1)',
  '<iframe src="javascript:window.pwned=1"></iframe>',
  '<details open ontoggle="window.pwned = \'details\'">x</details>',
  '[data](data:text/html,<script>window.pwned=1</script>)',
  '<style>body { display: none }</style>',
].join('\n\n');

describeWithBrowser('the console renders agent-written Markdown safely (real Chromium)', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // The module the console ships, bundled as it is for the page, without the page's CSP: the sanitiser alone must hold.
    ({ browser, page } = await pageWithConsoleModule(MARKDOWN_MODULE, 'consoleMarkdown'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function render(markdown: string): Promise<{ html: string; pwned: unknown; tags: string[]; attributes: string[] }> {
    await page.evaluate((source) => {
      const out = document.getElementById('out');
      const lib = (window as unknown as { consoleMarkdown: { renderMarkdown(md: string): DocumentFragment } }).consoleMarkdown;
      out?.replaceChildren(lib.renderMarkdown(source));
    }, markdown);
    // Event handlers such as onerror fire asynchronously.
    await page.waitForTimeout(300);
    return page.evaluate(() => {
      const out = document.getElementById('out');
      const elements = Array.from(out?.querySelectorAll('*') ?? []);
      return {
        html: out?.innerHTML ?? '',
        pwned: (window as unknown as { pwned?: unknown }).pwned,
        tags: [...new Set(elements.map((el) => el.tagName.toLowerCase()))].sort(),
        attributes: elements.flatMap((el) => Array.from(el.attributes).map((attr) => `${attr.name}=${attr.value}`)),
      };
    });
  }

  it('keeps headings, lists, code, tables and https links', async () => {
    const { html } = await render('# Done\n\n* one\n* **two**\n\n```ts\nconst x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[PR](https://github.com/acme/app/pull/7)');
    expect(html).toContain('<h1>Done</h1>');
    expect(html).toContain('<strong>two</strong>');
    expect(html).toContain('<code class="language-ts">');
    expect(html).toContain('<td>2</td>');
    expect(html).toContain('href="https://github.com/acme/app/pull/7"');
  });

  it('runs nothing the report contains and keeps its HTML as visible text', async () => {
    const { html, pwned, tags, attributes } = await render(HOSTILE);
    expect(pwned).toBeUndefined();
    expect(tags).toEqual(['p']);
    expect(attributes).toEqual([]);
    // Shown, not swallowed: an operator sees what the agent tried.
    expect(html).toContain('&lt;script&gt;');
  });
});
