import { dirname, join } from 'node:path';
import type { FileSystem } from '../fs/file-system';
import { GitCommandError, type GitCli } from './git-cli';

export interface ScratchPushRequest {
  /** The agent's clone; its HEAD commit is what gets pushed. */
  repoDir: string;
  /** Where to push: the clone URL as given by the conductor, never with credentials in it. */
  url: string;
  /** Full ref name on the remote, e.g. refs/heads/worker/w-1/agent/fix. */
  ref: string;
  /** undefined: a remote that needs none (the local publisher's). */
  token: string | undefined;
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
 * The agent owns repoDir/.git, hooks and config included (core.hooksPath, url.*.insteadOf, http.proxy,
 * trace2.*, includeIf, ...); running the worker's git there would hand the token, or root, to whatever the agent
 * configured. The scratch repository is the worker's, in a private 0700 directory, and the git that pushes
 * reads no global, system or XDG config (see GitCli) and runs only after every agent process is gone.
 */
export async function pushFromScratch(git: GitCli, fs: FileSystem, request: ScratchPushRequest): Promise<void> {
  const commit = (await git.runInAgentRepo(request.repoDir, ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) throw new Error(`the agent's HEAD is not a commit id: ${JSON.stringify(commit.slice(0, 80))}`);
  const objects = await agentObjectStore(fs, request.repoDir);
  const scratch = await fs.makeTempDir('agent-conductor-push-');
  try {
    await git.run(scratch, ['init', '--quiet', '--bare', '.']);
    await fs.writeText(join(scratch, 'objects', 'info', 'alternates'), `${objects}\n`);
    const push = ['push', '--quiet', '--no-verify', '--', request.url, `${commit}:${request.ref}`];
    const auth = request.token ? httpAuthEnv(request.url, request.token) : {};
    await (Object.keys(auth).length > 0 ? git.runWithCredential(scratch, push, auth) : git.run(scratch, push));
  } catch (error) {
    const detail = error instanceof GitCommandError ? error.stderr.trim().slice(-2_000) : error instanceof Error ? error.message : String(error);
    const hint = request.token && /\b(401|403)\b|denied|Authentication failed|could not read Username/i.test(detail)
      ? ' (GITHUB_TOKEN needs Contents: read and write on the repository)'
      : '';
    throw new Error(redactToken(`git push of ${request.ref} to ${displayUrl(request.url)} failed${hint}: ${detail}`, request.token ?? ''));
  } finally {
    await fs.remove(scratch);
  }
}

/**
 * repoDir/.git/objects, when it is the agent's own: no symlinked component (it could name another repository's
 * private objects, which the worker would read and push with its rights) and no alternates of its own. repoDir and
 * its parent count too: the agent owns repo/ (and repo/<name>/ in a job over several repositories) and could swap
 * either for a symlink, and lstat of .git alone follows it.
 */
async function agentObjectStore(fs: FileSystem, repoDir: string): Promise<string> {
  const objects = join(repoDir, '.git', 'objects');
  const info = join(objects, 'info');
  const required = [dirname(repoDir), repoDir, join(repoDir, '.git'), objects, ...((await fs.exists(info)) ? [info] : [])];
  for (const dir of required) {
    if (!(await fs.isDirectory(dir))) throw new Error(`refusing to push: ${dir} is not a real directory (a symlink, or missing)`);
  }
  for (const borrowed of ['alternates', 'http-alternates']) {
    if (await fs.exists(join(objects, 'info', borrowed))) throw new Error(`refusing to push: the agent's repository borrows objects from elsewhere (.git/objects/info/${borrowed})`);
  }
  return objects;
}

function redactToken(text: string, token: string): string {
  if (token === '') return text;
  const encoded = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64');
  return text.split(token).join('[REDACTED]').split(encoded).join('[REDACTED]');
}
