import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSOLE_TOKEN_MIN_LENGTH, type ConductorConfig, type ConsoleAuthConfig } from '../config/env.validators';

export const DEV_CONSOLE_TOKEN_FILE = 'console-token';

/**
 * The local dev stack's console token: without CONSOLE_TOKEN, a development conductor makes one and keeps it in
 * `<CONDUCTOR_RUN_DIR>/console-token` (owner-only), so a restart does not log the browser out. Never in production
 * or tests, where a missing token means the console is off.
 */
export async function devConsoleToken(
  config: Pick<ConductorConfig, 'nodeEnv' | 'consoleAuth' | 'runDir'>,
): Promise<{ token: string; file: string; consoleAuth: ConsoleAuthConfig } | undefined> {
  const auth = config.consoleAuth;
  if (config.nodeEnv !== 'development' || auth.mode !== 'token' || auth.token) return undefined;
  const file = join(config.runDir, DEV_CONSOLE_TOKEN_FILE);
  let token = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (token.length < CONSOLE_TOKEN_MIN_LENGTH) {
    token = randomBytes(32).toString('hex');
    await mkdir(config.runDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
  }
  return { token, file, consoleAuth: { ...auth, token } };
}
