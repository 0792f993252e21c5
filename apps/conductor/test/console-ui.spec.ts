import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConductorConfigModule } from '../src/config/config.module';
import { CONSOLE_CONTENT_SECURITY_POLICY } from '../src/console-ui/console-assets.service';
import { ConsoleUiModule } from '../src/console-ui/console-ui.module';
import type { ConductorConfig } from '../src/config/env.validators';
import { loginCookie, TEST_CONSOLE_TOKEN } from './support/console';
import { testConfig } from './support/fixtures';

const WORKSPACE = resolve(__dirname, '../../..');

const TOKEN_AUTH: ConductorConfig['consoleAuth'] = { mode: 'token', token: TEST_CONSOLE_TOKEN, sessionTtlMs: 3_600_000 };
const BEARER = { authorization: `Bearer ${TEST_CONSOLE_TOKEN}` };

async function startConsole(consoleUiDir: string, consoleAuth: ConductorConfig['consoleAuth'] = TOKEN_AUTH): Promise<{ app: INestApplication; base: string }> {
  const config = await testConfig({ consoleUiDir, consoleAuth });
  const moduleRef = await Test.createTestingModule({ imports: [ConductorConfigModule.forRoot(config), ConsoleUiModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}` };
}

describe('the console pages (the real bundle from apps/console-ui/build.mjs)', () => {
  let built: string;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    built = await mkdtemp(join(tmpdir(), 'console-ui-'));
    execFileSync(process.execPath, [join(WORKSPACE, 'apps/console-ui/build.mjs'), built], { cwd: WORKSPACE, stdio: 'inherit' });
    ({ app, base } = await startConsole(built));
  });

  afterAll(async () => {
    await app?.close();
    await rm(built, { recursive: true, force: true });
  });

  it.each([
    ['/login', 'text/html', '<form id="login"'],
    ['/assets/login.js', 'text/javascript', '/api/v1/session'],
    ['/assets/console.css', 'text/css', '.status-running'],
    ['/', 'text/html', '<main id="view"'],
    ['/assets/app.js', 'text/javascript', '/api/v1/jobs'],
  ])('serves %s as %s under a strict Content-Security-Policy', async (path, type, marker) => {
    const res = await fetch(`${base}${path}`, { headers: BEARER });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(type);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain(marker);
  });

  it('allows no inline script or style, so the policy needs no unsafe-inline', async () => {
    expect(CONSOLE_CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    for (const page of ['index.html', 'login.html']) {
      const html = await readFile(join(built, page), 'utf8');
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/ src="\/assets\/[a-z]+\.js"/);
      expect(html).not.toMatch(/<style\b| style=| on[a-z]+=/i);
    }
  });

  it('serves only the listed files, nothing else from the directory', async () => {
    for (const path of ['/assets/other.js', '/index.html', '/assets/..%2f..%2fpackage.json', '/login.html']) {
      expect({ path, status: (await fetch(`${base}${path}`, { headers: BEARER })).status }).toEqual({ path, status: 404 });
    }
  });

  it('sends a browser without a session to /login, answers scripts 401, and serves the login page to anyone', async () => {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect({ status: page.status, location: page.headers.get('location') }).toEqual({ status: 302, location: '/login' });
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/assets/app.js`, { headers: { accept: '*/*' } })).status).toBe(401);
    expect((await fetch(`${base}/`, { headers: { authorization: `Bearer ${TEST_CONSOLE_TOKEN}x` } })).status).toBe(401);
    for (const path of ['/login', '/assets/login.js', '/assets/console.css']) expect({ path, status: (await fetch(`${base}${path}`)).status }).toEqual({ path, status: 200 });
  });

  it('serves the console to the session cookie the login page gets', async () => {
    const cookie = await loginCookie(base);
    const res = await fetch(`${base}/`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('/assets/app.js');
  });
});

describe('a conductor without a console token', () => {
  it('has no console at all: 404 for the pages, the login page included', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-ui-off-'));
    const { app, base } = await startConsole(empty, { mode: 'token', token: undefined, sessionTtlMs: 3_600_000 });
    try {
      for (const path of ['/', '/login', '/assets/app.js', '/assets/login.js']) {
        expect({ path, status: (await fetch(`${base}${path}`, { headers: { accept: 'text/html' }, redirect: 'manual' })).status }).toEqual({ path, status: 404 });
      }
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('a conductor whose console was not built', () => {
  it('boots and answers 503 for the pages', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-ui-empty-'));
    const { app, base } = await startConsole(empty);
    try {
      const res = await fetch(`${base}/login`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('not built');
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
