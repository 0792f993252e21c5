/*
 * Usage (workspace root, after `nx build <app>`):
 *   tsx tools/infra-tests/src/complete-runtime-deps.ts dist/apps/<app>
 *
 * Nx's generatePackageJson derives dependencies from the project graph, which
 * does not see git-ignored generated code (the Prisma client), so a bundle can
 * require packages its package.json omits and `npm ci --omit=dev` in the image
 * would leave them out. This adds them and refreshes the lockfile so the
 * runtime stage can still install with `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { completeDependencies, type GeneratedPackageJson } from './lib/runtime-deps';

function installedVersion(workspaceRoot: string, name: string): string | null {
  const manifest = join(workspaceRoot, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return null;
  const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : null;
}

function main(outputDir: string | undefined): number {
  if (!outputDir) {
    process.stderr.write('usage: complete-runtime-deps.ts dist/apps/<app>\n');
    return 2;
  }
  const dir = resolve(outputDir);
  const packageJsonPath = join(dir, 'package.json');
  const bundle = readFileSync(join(dir, 'main.js'), 'utf8');
  const original = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as GeneratedPackageJson;
  const { packageJson, added } = completeDependencies(bundle, original, (name) => installedVersion(process.cwd(), name));
  const names = Object.keys(added);
  if (names.length === 0) {
    process.stdout.write(`${outputDir}: package.json already lists every required package\n`);
    return 0;
  }
  writeFileSync(packageJsonPath, `${JSON.stringify(packageJson, null, 2)}\n`);
  process.stdout.write(`${outputDir}: added ${names.map((n) => `${n}@${added[n]}`).join(', ')}\n`);
  const relock = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
  });
  return relock.status ?? 1;
}

try {
  process.exit(main(process.argv[2]));
} catch (error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
