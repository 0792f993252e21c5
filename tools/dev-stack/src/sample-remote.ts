import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SAMPLE_APP_DIR = resolve(__dirname, '../sample-app');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Creates a bare repository holding the sample app on `main`, unless one is
 * already there: the local publisher pushes worker branches into it, so an
 * existing remote keeps its history across dev-stack restarts.
 */
export async function ensureSampleRemote(bareDir: string, sourceDir: string = SAMPLE_APP_DIR): Promise<{ created: boolean }> {
  if (await exists(join(bareDir, 'HEAD'))) {
    return { created: false };
  }
  const staging = await mkdtemp(join(tmpdir(), 'sample-app-'));
  try {
    await cp(sourceDir, staging, { recursive: true });
    const git = (...args: string[]) => run('git', args, { cwd: staging });
    await git('init', '--quiet', '--initial-branch=main');
    await git('add', '.');
    await git('-c', 'user.name=Agent Conductor', '-c', 'user.email=agent-conductor@localhost', 'commit', '--quiet', '-m', 'Sample app');
    await mkdir(dirname(bareDir), { recursive: true });
    await run('git', ['clone', '--quiet', '--bare', staging, bareDir]);
    return { created: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Branch names in a bare repository, e.g. to see what workers pushed. */
export async function listBranches(bareDir: string): Promise<string[]> {
  const { stdout } = await run('git', ['for-each-ref', '--format=%(refname:short)', 'refs/heads'], { cwd: bareDir });
  return stdout.split('\n').filter((line) => line.length > 0);
}
