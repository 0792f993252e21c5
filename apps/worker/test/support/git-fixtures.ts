import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** safe.directory: the work dirs under test belong to the agent's uid, not to the test. */
export function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'safe.directory=*', ...args], { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
}

/** A bare remote holding a small sample app on `main`, as a real clone URL would: root/<name>.git. */
export function createBareRemote(root: string, name = 'sample-app'): string {
  const source = join(root, `${name}-source`);
  mkdirSync(join(source, 'src'), { recursive: true });
  writeFileSync(join(source, 'README.md'), '# Sample app\n');
  writeFileSync(join(source, 'src', 'orders.ts'), 'export function orderTotal(prices: number[]): number {\n  return prices.reduce((a, b) => a + b, 0);\n}\n');
  git(root, ['init', '--quiet', '--initial-branch=main', source]);
  git(source, ['add', '.']);
  git(source, ['-c', 'user.name=Seed', '-c', 'user.email=seed@example.invalid', 'commit', '--quiet', '-m', 'Initial sample app']);
  const remote = join(root, `${name}.git`);
  git(root, ['clone', '--quiet', '--bare', source, remote]);
  return remote;
}
