import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

/*
 * Every npm script that runs a TypeScript tool (directly with tsx, or through the Nx target it names) answers
 * --help and refuses an unknown flag, as a real child process, before doing any work: nothing appears in its
 * temp dir, where the bench, chaos and replay create their databases and run directories.
 */

const WORKSPACE = resolve(__dirname, '../../..');
const UNKNOWN_FLAG = '--no-such-flag';

interface Cli {
  script: string;
  entry: string;
  /** What the script passes before the user's arguments, e.g. `deploy` for db:migrate. */
  fixedArgs: string[];
}

function projectCommands(): Map<string, string> {
  const commands = new Map<string, string>();
  for (const group of ['apps', 'libs', 'tools']) {
    for (const dir of readdirSync(join(WORKSPACE, group))) {
      let project: { name?: string; targets?: Record<string, { options?: { command?: string } }> };
      try {
        project = JSON.parse(readFileSync(join(WORKSPACE, group, dir, 'project.json'), 'utf8')) as typeof project;
      } catch {
        continue;
      }
      for (const [target, config] of Object.entries(project.targets ?? {})) {
        if (config.options?.command) commands.set(`${project.name ?? dir}:${target}`, config.options.command);
      }
    }
  }
  return commands;
}

/** The tsx entry a script runs, following `nx run project:target` into project.json. */
function clis(): Cli[] {
  const scripts = (JSON.parse(readFileSync(join(WORKSPACE, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const targets = projectCommands();
  const found: Cli[] = [];
  for (const [script, command] of Object.entries(scripts)) {
    const expanded = command.replace(/\bnx run ([\w-]+:[\w-]+)/g, (whole, target: string) => targets.get(target) ?? whole);
    // tsx as the command itself (`tsx file.ts`, `… && tsx file.ts`), not a loader (`node --import tsx …`).
    const match = /(?:^|&&|;)\s*(?:exec\s+)?tsx (\S+\.ts)((?: [\w-]+)*)/.exec(expanded);
    if (!match?.[1]) continue;
    found.push({ script, entry: match[1], fixedArgs: (match[2] ?? '').trim().split(' ').filter(Boolean) });
  }
  return found;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the process left in its temp dir. */
  leftovers: string[];
}

// tsx keeps its compile cache in <tmpdir>/tsx-<uid>; the scratch dir links to the real one so that every run
// does not compile the whole workspace again.
const TSX_CACHE = `tsx-${userInfo().uid}`;

function run(cli: Cli, args: string[]): Promise<Run> {
  const scratch = mkdtempSync(join(tmpdir(), 'cli-help-'));
  mkdirSync(join(tmpdir(), TSX_CACHE), { recursive: true });
  symlinkSync(join(tmpdir(), TSX_CACHE), join(scratch, TSX_CACHE));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli.entry, ...cli.fixedArgs, ...args], {
      cwd: WORKSPACE,
      // No database or queue to reach: a tool that got past its arguments would fail or hang, not pass.
      env: { ...process.env, TMPDIR: scratch, DATABASE_URL: 'postgresql://nobody:nothing@127.0.0.1:9/none', SQS_ENDPOINT: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const leftovers = readdirSync(scratch).filter((name) => name !== TSX_CACHE);
      rmSync(scratch, { recursive: true, force: true });
      resolvePromise({ code, stdout, stderr, leftovers });
    });
  });
}

const ALL = clis();

describe('the command-line tools', () => {
  it('are found in package.json: every tool the issue names', () => {
    expect(ALL.map((cli) => cli.script)).toEqual(
      expect.arrayContaining([
        'push:ticket',
        'replay',
        'scenario:generate',
        'scenario:export',
        'bench:ticket',
        'bench:conductor',
        'bench:scheduler',
        'bench:hostile-archives',
        'chaos',
        'db:migrate',
        'db:status',
        'status',
        'jobs',
      ]),
    );
  });

  describe.each(ALL.map((cli) => [cli.script, cli] as const))('npm run %s', (script, cli) => {
    it('-- --help prints the usage and exits 0 without doing anything', async () => {
      const result = await run(cli, ['--help']);
      expect({ code: result.code, stderr: result.stderr, leftovers: result.leftovers }).toEqual({ code: 0, stderr: '', leftovers: [] });
      expect(result.stdout).toMatch(/^usage: /);
      expect(result.stdout).toContain(script);
      expect(result.stdout).toContain('--help');
    });

    it(`-- ${UNKNOWN_FLAG} is refused with exit 2, naming the flag, before doing anything`, async () => {
      const result = await run(cli, [UNKNOWN_FLAG]);
      expect({ code: result.code, stdout: result.stdout, leftovers: result.leftovers }).toEqual({ code: 2, stdout: '', leftovers: [] });
      expect(result.stderr).toContain(`unknown option ${UNKNOWN_FLAG}`);
      expect(result.stderr).toMatch(/^usage: /m);
    });
  });
});
