import { join } from 'node:path';
import type { FileSystem } from '../fs/file-system';
import { GitCommandError, type GitCli } from './git-cli';

export interface AuthenticatedPushRequest {
  /** The agent's clone; its HEAD commit is what gets pushed. */
  repoDir: string;
  /** Where to push: the clone URL as given by the conductor, never with credentials in it. */
  url: string;
  /** Full ref name on the remote, e.g. refs/heads/worker/w-1/agent/fix. */
  ref: string;
  token: string;
}

/**
 * Git configuration, as environment variables, that sends the token as GitHub's documented Basic credential
 * (user x-access-token) to the push URL's origin only. Variables stay out of argv (visible in the process list)
 * and out of any config file (readable by the agent). Nothing is returned for non-HTTP URLs: they need no token.
 */
export function httpAuthEnv(url: string, token: string): Record<string, string> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return {};
  const credential = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${parsed.protocol}//${parsed.host}/.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${credential}`,
  };
}

/** The URL without user info, for messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Pushes repoDir's HEAD commit from a scratch bare repository that borrows repoDir's objects (alternates).
 * The agent owns repoDir/.git, hooks and config included (core.hooksPath, url.*.insteadOf, http.proxy, ...);
 * running the authenticated git there would hand the token to whatever the agent configured.
 */
export async function pushWithToken(git: GitCli, fs: FileSystem, request: AuthenticatedPushRequest): Promise<void> {
  const commit = (await git.run(request.repoDir, ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  const objects = (await git.run(request.repoDir, ['rev-parse', '--path-format=absolute', '--git-path', 'objects'])).trim();
  const scratch = await fs.makeTempDir('agent-conductor-push-');
  try {
    await git.run(scratch, ['init', '--quiet', '--bare', '.']);
    await fs.writeText(join(scratch, 'objects', 'info', 'alternates'), `${objects}\n`);
    await git.run(scratch, ['push', '--quiet', '--no-verify', '--', request.url, `${commit}:${request.ref}`], httpAuthEnv(request.url, request.token));
  } catch (error) {
    const detail = error instanceof GitCommandError ? error.stderr.trim().slice(-2_000) : error instanceof Error ? error.message : String(error);
    const hint = /\b(401|403)\b|denied|Authentication failed|could not read Username/i.test(detail)
      ? ' (GITHUB_TOKEN needs Contents: read and write on the repository)'
      : '';
    throw new Error(redactToken(`git push of ${request.ref} to ${displayUrl(request.url)} failed${hint}: ${detail}`, request.token));
  } finally {
    await fs.remove(scratch);
  }
}

function redactToken(text: string, token: string): string {
  if (token === '') return text;
  const encoded = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
  return text.split(token).join('[REDACTED]').split(encoded).join('[REDACTED]');
}
