import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devConsoleToken } from './dev-console-token';

describe('devConsoleToken', () => {
  it('makes a long token once in development and keeps it across restarts, owner-only', async () => {
    const runDir = join(await mkdtemp(join(tmpdir(), 'dev-console-token-')), 'run');
    const config = { nodeEnv: 'development' as const, runDir, consoleAuth: { mode: 'token' as const, token: undefined, sessionTtlMs: 1 } };
    const first = await devConsoleToken(config);
    expect(first?.token).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(join(runDir, 'console-token'), 'utf8')).trim()).toBe(first?.token);
    expect((await stat(join(runDir, 'console-token'))).mode & 0o777).toBe(0o600);
    expect((await devConsoleToken(config))?.token).toBe(first?.token);
    // A file someone shortened by hand is replaced rather than trusted.
    await writeFile(join(runDir, 'console-token'), 'short\n');
    expect((await devConsoleToken(config))?.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does nothing in production or tests, with a configured token, or in proxy mode', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'dev-console-token-'));
    const off = { mode: 'token' as const, token: undefined, sessionTtlMs: 1 };
    expect(await devConsoleToken({ nodeEnv: 'production', runDir, consoleAuth: off })).toBeUndefined();
    expect(await devConsoleToken({ nodeEnv: 'test', runDir, consoleAuth: off })).toBeUndefined();
    expect(await devConsoleToken({ nodeEnv: 'development', runDir, consoleAuth: { ...off, token: 'x'.repeat(40) } })).toBeUndefined();
    expect(await devConsoleToken({ nodeEnv: 'development', runDir, consoleAuth: { mode: 'proxy', albArn: 'a', publicKeyUrl: 'u' } })).toBeUndefined();
  });
});
