import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The system Chromium (Debian's `chromium` package) or CHROMIUM_PATH; nothing is ever downloaded. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env['CHROMIUM_PATH'];
  if (configured) return existsSync(configured) ? configured : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

export const CHROMIUM = findChromium();

/** `describe`, or `describe.skip` with a message saying why, so a machine without a browser still runs the rest. */
export function describeWithBrowser(name: string, body: () => void): void {
  if (CHROMIUM) {
    describe(name, body);
    return;
  }
  process.stderr.write(
    `console browser tests SKIPPED (${name}): no Chromium found. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.\n`,
  );
  describe.skip(`${name} (skipped: no Chromium; apt-get install -y chromium or set CHROMIUM_PATH)`, body);
}

export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('no Chromium');
  // Root in a container has no user namespace for Chromium's sandbox; the pages are our own console.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/**
 * A console-ui module bundled as the console ships it, loaded as `window[globalName]` into a bare page holding
 * `<main id="out">`: no CSP, so the module's own escaping alone must hold.
 */
export async function pageWithConsoleModule(entryPoint: string, globalName: string): Promise<{ browser: Browser; page: Page }> {
  const bundle = await build({ entryPoints: [entryPoint], bundle: true, format: 'iife', globalName, write: false, target: 'es2022' });
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.setContent('<main id="out"></main>');
  await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' });
  return { browser, page };
}
