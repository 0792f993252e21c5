import ignore from '@balena/dockerignore';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import {
  finalStage,
  instructionsOf,
  parseAssignments,
  parseCopy,
  parseDockerfile,
  type Dockerfile,
  type Stage,
} from '../src/lib/dockerfile';
import { missingDependencies, completeDependencies, type GeneratedPackageJson } from '../src/lib/runtime-deps';
import { APPS, fromRoot, type AppName } from '../src/lib/workspace';

const IMAGES = [...APPS, 'migrate'] as const;
type ImageName = (typeof IMAGES)[number];

function load(name: ImageName): Dockerfile {
  return parseDockerfile(readFileSync(fromRoot('docker', `${name}.Dockerfile`), 'utf8'));
}

const dockerignore = ignore().add(readFileSync(fromRoot('.dockerignore'), 'utf8').split(/\r?\n/));
const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL/i;
const BUILD_ROOT = '/workspace/';

function stageByName(dockerfile: Dockerfile, name: string): Stage {
  const stage = dockerfile.stages.find((candidate) => candidate.name === name || String(candidate.index) === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage;
}

/** Where each context file a stage COPYs ends up; the build context is the repo root. */
function contextCopies(dockerfile: Dockerfile): Array<{ source: string; line: number }> {
  return dockerfile.stages.flatMap((stage) =>
    instructionsOf(stage, 'COPY')
      .concat(instructionsOf(stage, 'ADD'))
      .map(parseCopy)
      .filter((copy) => copy.from === null)
      .flatMap((copy) => copy.sources.map((source) => ({ source, line: copy.line }))),
  );
}

describe.each(IMAGES)('docker/%s.Dockerfile', (name) => {
  const dockerfile = load(name);
  const runtime = finalStage(dockerfile);

  it('is multi-stage and every base image is pinned to a major version tag', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));
    for (const stage of dockerfile.stages) {
      if (stageNames.has(stage.image)) continue;
      expect(stage.image).toMatch(/^[a-z0-9./-]+:\d+[\w.-]*$/);
    }
  });

  it('runs the final stage as a non-root user (the worker: as root, to drop the agent to its own uid) with NODE_ENV=production', () => {
    const users = instructionsOf(runtime, 'USER');
    const user = users[users.length - 1]?.args.trim();
    expect(user).toBeDefined();
    if (name === 'worker') expect(user).toBe('root');
    else expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = Object.fromEntries(instructionsOf(runtime, 'ENV').flatMap(parseAssignments));
    expect(env['NODE_ENV']).toBe('production');
  });

  it('bakes no secrets into ENV or ARG', () => {
    for (const stage of dockerfile.stages) {
      for (const instruction of [...instructionsOf(stage, 'ENV'), ...instructionsOf(stage, 'ARG')]) {
        for (const [key, value] of parseAssignments(instruction)) {
          if (SECRET_NAME.test(key)) expect({ key, value: value ?? '' }).toEqual({ key, value: '' });
        }
      }
    }
  });

  it('copies from the build context only files that exist and .dockerignore keeps', () => {
    const copies = contextCopies(dockerfile);
    expect(copies.length).toBeGreaterThan(0);
    for (const { source, line } of copies) {
      expect({ line, source, exists: existsSync(fromRoot(source)) }).toEqual({ line, source, exists: true });
      expect({ line, source, excluded: dockerignore.ignores(source) }).toEqual({ line, source, excluded: false });
    }
  });

  it('starts with an exec-form CMD so SIGTERM reaches node, not a shell', () => {
    const cmd = instructionsOf(runtime, 'CMD');
    expect(cmd).toHaveLength(1);
    expect(cmd[0]?.args.trim().startsWith('[')).toBe(true);
  });
});

/** Bundles an app builds besides main.js (webpack additionalEntryPoints) and its image needs. */
// The conductor's extraction worker and role tool are bundles of their own; `console` is the built web console.
const EXTRA_BUNDLES: Partial<Record<AppName, string[]>> = { conductor: ['archive-extraction.worker.js', 'db-roles.js', 'console'] };

describe.each(APPS)('the %s image', (app: AppName) => {
  const dockerfile = load(app);
  const runtime = finalStage(dockerfile);
  const distRoot = `dist/apps/${app}`;

  it('builds the app with nx in a stage other than the final one', () => {
    const builders = dockerfile.stages.filter((stage) =>
      instructionsOf(stage, 'RUN').some((run) => new RegExp(`\\bnx build ${app}\\b`).test(run.args)),
    );
    expect(builders.length).toBe(1);
    expect(builders[0]).not.toBe(runtime);
  });

  it(`copies only ${distRoot}/{main.js,proto,package.json,package-lock.json} (and the app's extra bundles) from the build stage, and nx build produces each`, () => {
    const fromBuild = instructionsOf(runtime, 'COPY').map(parseCopy).filter((copy) => copy.from !== null);
    const copied = fromBuild.flatMap((copy) => {
      expect(stageByName(dockerfile, copy.from ?? '')).not.toBe(runtime);
      return copy.sources;
    });
    const relative = copied.map((source) => {
      expect(source.startsWith(`${BUILD_ROOT}${distRoot}/`)).toBe(true);
      return posix.relative(BUILD_ROOT, source);
    });
    expect(new Set(relative)).toEqual(
      new Set(['main.js', 'proto', 'package.json', 'package-lock.json', ...(EXTRA_BUNDLES[app] ?? [])].map((file) => `${distRoot}/${file}`)),
    );
    for (const path of relative) {
      expect({ path, exists: existsSync(fromRoot(path)) }).toEqual({ path, exists: true });
    }
    expect(existsSync(fromRoot(distRoot, 'proto', 'agentconductor'))).toBe(true);
  });

  it('installs production dependencies from the generated lockfile', () => {
    const runs = instructionsOf(runtime, 'RUN').map((run) => run.args);
    expect(runs.some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
  });

  it('completes the generated package.json before the runtime stage installs it', () => {
    const builder = dockerfile.stages.find((stage) => stage !== runtime && instructionsOf(stage, 'RUN').some((run) => run.args.includes('nx build')));
    const runs = builder ? instructionsOf(builder, 'RUN').map((run) => run.args) : [];
    const buildAt = runs.findIndex((run) => run.includes(`nx build ${app}`));
    const completeAt = runs.findIndex((run) => run.includes(`complete-runtime-deps.ts ${distRoot}`));
    expect(buildAt).toBeGreaterThanOrEqual(0);
    expect(completeAt).toBeGreaterThan(buildAt);
  });

  it('has a runtime dependency for every package the built bundle requires, once completed', () => {
    const bundle = readFileSync(fromRoot(distRoot, 'main.js'), 'utf8');
    const packageJson = JSON.parse(readFileSync(fromRoot(distRoot, 'package.json'), 'utf8')) as GeneratedPackageJson;
    const installed = (pkg: string): string | null => {
      const manifest = fromRoot('node_modules', pkg, 'package.json');
      return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : null;
    };
    const { packageJson: completed } = completeDependencies(bundle, packageJson, installed);
    expect(missingDependencies(bundle, completed)).toEqual([]);
  });
});

describe('health checks', () => {
  it.each(['conductor', 'scheduler'] as const)('%s declares a HEALTHCHECK run by node', (app) => {
    const checks = instructionsOf(finalStage(load(app)), 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    expect(checks[0]?.args).toMatch(/CMD \["node", "-e"/);
  });

  it('the conductor checks liveness (/health/live, not readiness) on CONDUCTOR_HTTP_PORT', () => {
    const check = instructionsOf(finalStage(load('conductor')), 'HEALTHCHECK')[0]?.args ?? '';
    expect(check).toContain('CONDUCTOR_HTTP_PORT');
    // Readiness fails during a Postgres outage; a container check on it would get the conductor replaced.
    expect(check).toContain('/health/live');
  });

  it('the scheduler exposes its health and metrics port', () => {
    const runtime = finalStage(load('scheduler'));
    expect(instructionsOf(runtime, 'EXPOSE').map((expose) => expose.args).join(' ')).toMatch(/\b8081\b/);
    expect(instructionsOf(runtime, 'ENV').map((env) => env.args).join(' ')).toContain('SCHEDULER_HTTP_PORT=8081');
  });

  it('the worker, a one-shot task, has none', () => {
    expect(instructionsOf(finalStage(load('worker')), 'HEALTHCHECK')).toEqual([]);
  });
});

describe('the worker image', () => {
  const runtime = finalStage(load('worker'));
  const runs = instructionsOf(runtime, 'RUN').map((run) => run.args).join('\n');

  it.each(['git', 'openssh-client', 'ca-certificates', 'curl', 'jq', 'ripgrep', 'build-essential', 'python3'])(
    'installs %s',
    (pkg) => expect(runs).toMatch(new RegExp(`apt-get install[^\\n]*\\s${pkg}(\\s|$)`)),
  );

  it('installs the codex CLI at the version the SDK pins', () => {
    const sdk = JSON.parse(readFileSync(fromRoot('node_modules/@openai/codex-sdk/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(runs).toContain(`npm install -g @openai/codex@${sdk.dependencies['@openai/codex']}`);
  });

  it('creates the agent user with the uid and gid the worker drops the agent to, and a work directory', () => {
    const env = Object.fromEntries(instructionsOf(runtime, 'ENV').flatMap(parseAssignments));
    expect(env['WORK_DIR']).toBe('/work');
    expect(runs).toMatch(/mkdir -p \/work/);
    expect(env['AGENT_UID']).toBe('10001');
    expect(env['AGENT_GID']).toBe('10001');
    expect(runs).toMatch(/useradd [^\n]*--uid 10001 [^\n]*agent/);
    expect(runs).toMatch(/groupadd [^\n]*--gid 10001 agent/);
  });

  it('reaps the zombies of killed agent processes with tini as PID 1', () => {
    expect(runs).toMatch(/apt-get install[^\n]*\stini(\s|$)/);
    expect(instructionsOf(runtime, 'ENTRYPOINT')[0]?.args).toBe('["/usr/bin/tini", "--"]');
  });
});

describe('the migrate image', () => {
  const dockerfile = load('migrate');
  const runtime = finalStage(dockerfile);

  it('runs `prisma migrate deploy` with the schema, migrations and prisma.config.ts', () => {
    expect(instructionsOf(runtime, 'CMD')[0]?.args).toBe('["npx", "prisma", "migrate", "deploy"]');
    const sources = instructionsOf(runtime, 'COPY').map(parseCopy).filter((copy) => copy.from === null).flatMap((copy) => copy.sources);
    expect(sources).toEqual(expect.arrayContaining(['prisma.config.ts', 'prisma/schema.prisma', 'prisma/migrations']));
  });

  it('copies from its build stage only what that stage writes', () => {
    for (const copy of instructionsOf(runtime, 'COPY').map(parseCopy).filter((c) => c.from !== null)) {
      const producer = stageByName(dockerfile, copy.from ?? '');
      const written = instructionsOf(producer, 'RUN').map((run) => run.args).join('\n');
      for (const source of copy.sources) expect(written).toContain(source);
    }
  });
});

describe('Nx docker-build targets', () => {
  it.each(APPS)('%s has one that builds its Dockerfile from the repo root', (app) => {
    const project = JSON.parse(readFileSync(fromRoot('apps', app, 'project.json'), 'utf8')) as {
      targets: Record<string, { executor?: string; options?: { command?: string; cwd?: string } }>;
    };
    const target = project.targets['docker-build'];
    expect(target?.executor).toBe('nx:run-commands');
    expect(target?.options?.command).toBe(`docker build -f docker/${app}.Dockerfile -t agent-conductor/${app}:latest .`);
    expect(target?.options?.cwd ?? '{workspaceRoot}').toBe('{workspaceRoot}');
  });
});

const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
// .ci/run installs shellcheck, so in CI this never skips; the skip only spares machines without it.
(shellcheck.status === 0 ? it.each : it.skip.each)([
  ['tools/demo-agent/demo-agent.sh', 'sh'],
  ['tools/tls/make-dev-certs.sh', 'bash'],
  ['.ci/run', 'bash'],
])('%s has no shellcheck warnings as %s (skipped when shellcheck is not installed)', (script, shell) => {
  const result = spawnSync('shellcheck', [`--shell=${shell}`, '--severity=warning', fromRoot(script)], { encoding: 'utf8' });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});
