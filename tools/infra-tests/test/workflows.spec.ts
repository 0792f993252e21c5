import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fromRoot } from '../src/lib/workspace';

type Mapping = { [key: string]: unknown };

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function load(name: string): Mapping {
  // uniqueKeys (the default) rejects a duplicated key rather than letting the last one win.
  const parsed: unknown = parse(readFileSync(fromRoot('.github/workflows', name), 'utf8'));
  if (!isMapping(parsed)) throw new Error(`${name} is not a mapping`);
  return parsed;
}

function get(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isMapping(current) ? current[key] : undefined;
  return current;
}

function steps(job: unknown): Mapping[] {
  const list = get(job, 'steps');
  return Array.isArray(list) ? list.filter(isMapping) : [];
}

describe('.github/workflows/ci.yml', () => {
  const ci = load('ci.yml');
  const test = get(ci, 'jobs', 'test');
  const images = get(ci, 'jobs', 'images');

  it('runs on pushes and pull requests', () => {
    expect(Object.keys(get(ci, 'on') as Mapping)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('tests the affected projects on Node 22 against a health-checked postgres:16 service', () => {
    expect(get(test, 'runs-on')).toBe('ubuntu-latest');
    const postgres = get(test, 'services', 'postgres');
    expect(get(postgres, 'image')).toBe('postgres:16');
    expect(get(postgres, 'ports')).toEqual(['5432:5432']);
    expect(String(get(postgres, 'options'))).toMatch(/--health-cmd "pg_isready/);
    const setupNode = steps(test).find((step) => String(step['uses']).startsWith('actions/setup-node@'));
    expect(get(setupNode, 'with', 'node-version')).toBe(22);
    const runs = steps(test).map((step) => String(step['run'] ?? ''));
    expect(runs.indexOf('npm ci --no-audit --no-fund')).toBeGreaterThanOrEqual(0);
    const testStep = steps(test).findIndex((step) => /^npx nx affected -t test /.test(String(step['run'])));
    expect(runs.indexOf('npm ci --no-audit --no-fund')).toBeLessThan(testStep);
    expect(get(steps(test)[testStep], 'env', 'DATABASE_URL')).toBe('postgresql://postgres:postgres@localhost:5432/postgres');
  });

  it('runs nx affected for lint, typecheck and test between the SHAs nx-set-shas found, tests one project at a time', () => {
    const all = steps(test);
    const setShas = all.findIndex((step) => String(step['uses']).startsWith('nrwl/nx-set-shas@'));
    expect(setShas).toBeGreaterThanOrEqual(0);
    expect(String(get(all.find((step) => String(step['uses']).startsWith('actions/checkout@')), 'with', 'fetch-depth'))).toBe('0');
    expect(get(test, 'permissions', 'actions')).toBe('read');
    const affected = all.map((step, index) => ({ index, run: String(step['run'] ?? '') })).filter(({ run }) => run.startsWith('npx nx affected '));
    const targets = affected.flatMap(({ run }) => /-t (\S+(?: (?!-)\S+)*)/.exec(run)?.[1]?.split(/[ ,]/) ?? []);
    expect(targets.sort()).toEqual(['lint', 'test', 'typecheck']);
    for (const { index, run } of affected) {
      expect(index).toBeGreaterThan(setShas);
      expect(run).toContain('--base="$NX_BASE" --head="$NX_HEAD"');
    }
    expect(affected.find(({ run }) => run.includes('-t test'))?.run).toContain('--parallel=1');
  });

  it('restores the Nx cache with the index that makes it usable, before the first nx command', () => {
    const all = steps(test);
    expect(get(test, 'env', 'NX_CACHE_DIRECTORY')).toBe('.nx/cache');
    expect(get(test, 'env', 'NX_WORKSPACE_DATA_DIRECTORY')).toBe('.nx/workspace-data');
    const restore = all.findIndex((step) => String(step['uses']).startsWith('actions/cache@'));
    expect(String(get(all[restore], 'with', 'path')).split('\n').filter(Boolean)).toEqual(['.nx/cache', '.nx/workspace-data/*.db']);
    expect(String(get(all[restore], 'with', 'key'))).toContain('${{ github.sha }}');
    const adopt = all.findIndex((step) => String(step['run']).includes('machine-id'));
    const firstNx = all.findIndex((step) => String(step['run']).startsWith('npx nx '));
    expect(restore).toBeGreaterThanOrEqual(0);
    expect(restore).toBeLessThan(adopt);
    expect(adopt).toBeLessThan(firstNx);
  });

  it('builds the affected apps images after the tests, pushing only from main via OIDC', () => {
    expect(get(images, 'needs')).toBe('test');
    expect(get(images, 'permissions', 'id-token')).toBe('write');
    const all = steps(images);
    expect(all.some((step) => String(step['uses']).startsWith('nrwl/nx-set-shas@'))).toBe(true);
    expect(all.some((step) => String(step['run']).includes('nx show projects --affected --type app'))).toBe(true);
    expect(all.find((step) => String(step['uses']).startsWith('aws-actions/configure-aws-credentials@'))?.['if']).toMatch(/refs\/heads\/main/);
    expect(all.some((step) => String(step['uses']).startsWith('aws-actions/amazon-ecr-login@'))).toBe(true);
    for (const app of ['conductor', 'scheduler', 'worker']) {
      const build = all.find((step) => get(step, 'with', 'file') === `docker/${app}.Dockerfile`);
      expect(String(build?.['uses'])).toMatch(/^docker\/build-push-action@/);
      expect(build?.['if']).toBe(`contains(fromJSON(steps.affected.outputs.apps), '${app}')`);
      expect(String(get(build, 'with', 'push'))).toMatch(/github\.ref == 'refs\/heads\/main'/);
      expect(get(build, 'with', 'context')).toBe('.');
    }
  });
});

describe('.github/workflows/migrate.yml', () => {
  const migrate = load('migrate.yml');

  it('is started by hand only', () => {
    expect(Object.keys(get(migrate, 'on') as Mapping)).toEqual(['workflow_dispatch']);
  });

  it('runs the migrate task definition once with run-task, waits for it to stop and checks its exit code', () => {
    const jobs = get(migrate, 'jobs') as Mapping;
    expect(Object.keys(jobs)).toEqual(['migrate']);
    const script = steps(jobs['migrate']).map((step) => String(step['run'] ?? '')).join('\n');
    expect(script.match(/aws ecs run-task/g)).toHaveLength(1);
    expect(script).toMatch(/aws ecs wait tasks-stopped/);
    expect(script).toMatch(/containers\[0\]\.exitCode/);
    expect(script).toMatch(/test "\$code" = "0"/);
    expect(get(migrate, 'concurrency', 'cancel-in-progress')).toBe(false);
  });
});
