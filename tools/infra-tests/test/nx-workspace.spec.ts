import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot, WORKSPACE_ROOT } from '../src/lib/workspace';

interface Target {
  executor?: string;
  command?: string;
  inputs?: unknown[];
  dependsOn?: unknown[];
  options?: Record<string, unknown>;
}

interface ProjectNode {
  name: string;
  data: { root: string; targets: Record<string, Target> };
}

/** The project graph as Nx resolves it: project.json files, the inferred plugins and targetDefaults together. */
function projectGraph(): Record<string, ProjectNode> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(process.execPath, [fromRoot('node_modules/.bin/nx'), 'graph', `--file=${file}`], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return (JSON.parse(readFileSync(file, 'utf8')) as { graph: { nodes: Record<string, ProjectNode> } }).graph.nodes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Nx workspace (nx.json plugins and targetDefaults)', () => {
  let nodes: ProjectNode[];

  beforeAll(() => {
    nodes = Object.values(projectGraph());
  }, 120_000);

  it('has exactly the projects that have a project.json (the inferred plugins add none)', () => {
    for (const node of nodes) expect(existsSync(fromRoot(node.data.root, 'project.json'))).toBe(true);
    expect(nodes.map((node) => node.name)).toEqual(expect.arrayContaining(['conductor', 'scheduler', 'worker', 'scheduling-domain', 'infra-tests']));
  });

  it('lints every project with the root eslint.config.mjs as an input, so editing it reruns lint', () => {
    const linted = nodes.filter((node) => node.data.targets['lint']);
    expect(linted.length).toBe(nodes.filter((node) => node.name !== 'prisma').length);
    for (const node of linted) expect(node.data.targets['lint']?.inputs).toContain('{workspaceRoot}/eslint.config.mjs');
  });

  it('gives every project with a jest.config.js a test target that runs that config from the workspace root', () => {
    const withJest = nodes.filter((node) => existsSync(fromRoot(node.data.root, 'jest.config.js')));
    expect(withJest.length).toBeGreaterThan(10);
    for (const node of withJest) {
      const test = node.data.targets['test'];
      // Code under test finds prisma/migrations, proto/ and .dev/ from process.cwd(), as the apps do in production.
      expect({ project: node.name, cwd: test?.options?.['cwd'] ?? '' }).toEqual({ project: node.name, cwd: '' });
      expect(test?.options?.['config']).toBe(`${node.data.root}/jest.config.js`);
    }
    const withoutJest = nodes.filter((node) => !existsSync(fromRoot(node.data.root, 'jest.config.js')));
    for (const node of withoutJest) expect({ project: node.name, test: node.data.targets['test'] }).toEqual({ project: node.name, test: undefined });
  });

  it('keeps the test prerequisites the project.json files add to the inferred test targets', () => {
    const conductor = nodes.find((node) => node.name === 'conductor');
    expect(conductor?.data.targets['test']?.dependsOn).toEqual(expect.arrayContaining(['build', 'worker:build']));
    for (const tool of ['chaos', 'e2e', 'hostile-agent', 'infra-tests']) {
      expect(nodes.find((node) => node.name === tool)?.data.targets['test']?.dependsOn).toEqual(expect.arrayContaining(['conductor:build', 'scheduler:build', 'worker:build']));
    }
  });
});
