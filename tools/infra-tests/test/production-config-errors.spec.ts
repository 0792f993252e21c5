import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, fromRoot, type AppName } from '../src/lib/workspace';

/*
 * A container started with a missing variable must say so in its log stream the way every other line is
 * written (CloudWatch shows escape codes as garbage): the built app, as the image runs it, with only
 * NODE_ENV=production set.
 */

/** ESC [ : the start of every colour code. */
const ANSI_ESCAPE = `${String.fromCharCode(0x1b)}[`;

interface Exit {
  code: number | null;
  output: string;
}

function startBare(app: AppName, cwd: string): Promise<Exit> {
  const main = fromRoot('dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run nx build ${app}`);
  return new Promise((resolve, reject) => {
    // Nothing inherited: no DATABASE_URL, no colour switches (NO_COLOR, FORCE_COLOR) either way.
    const child = spawn(process.execPath, [main], { cwd, env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** What each app must name when it is started with nothing but NODE_ENV=production. */
const REQUIRED: Record<AppName, string> = { conductor: 'DATABASE_URL', scheduler: 'DATABASE_URL', worker: 'WORKER_ID' };

describe.each(APPS)('the built %s, started in production with a missing variable', (app) => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), `config-error-${app}-`));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('exits non-zero, names the variable, and prints no ANSI colour codes', async () => {
    const { code, output } = await startBare(app, cwd);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output).toContain(REQUIRED[app]);
    expect(output).not.toContain(ANSI_ESCAPE);
    if (app !== 'worker') {
      // The long-running services log JSON in production, the config error included: one object per line.
      const lines = output.split('\n').filter((line) => line.trim() !== '');
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: 'error', service: app });
    }
  });
});
