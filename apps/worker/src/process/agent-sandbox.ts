import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { chmod, lchown, lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WORKER_CONFIG } from '../config/config.module';
import type { AgentIsolationConfig, WorkerConfig } from '../config/env.validators';
import { scrubbedEnv } from './child-env';

/** The unprivileged identity the agent and everything it starts run as. */
export interface AgentIdentity {
  uid: number;
  gid: number;
}

/** What the agent's processes are started with: the executable and argv, and its own environment. */
export interface AgentCommand {
  file: string;
  args: string[];
}

/** setpriv (util-linux, in every Debian image): drops to the agent's ids, no supplementary groups, no privilege gain through setuid files. */
const SETPRIV = '/usr/bin/setpriv';
const KILL_ROUNDS = 50;
const KILL_ROUND_PAUSE_MS = 20;

/** Process-wide because the warning is about the process, and tests boot many worker contexts in one process. */
let warnedOnce = false;

/**
 * The one place where the agent's processes get their identity, home and environment, and where they are
 * ended. Both agent runners and every git call on the agent's repository go through it.
 *
 * When the worker runs as root (the container, CI) and AGENT_ISOLATION is auto, the agent runs as
 * AGENT_UID/AGENT_GID: it cannot read the worker's /proc entries, memory or private files. Elsewhere the
 * worker says once, loudly, that the agent runs as the worker's own user, and carries on.
 */
@Injectable()
export class AgentSandbox implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AgentSandbox.name);
  readonly identity: AgentIdentity | undefined;
  private home: string | undefined;
  private privateDir: string | undefined;
  /** Set once the job is known (the AWS credentials file's location): every later agent process gets it. */
  private jobEnv: Record<string, string> = {};

  constructor(@Inject(WORKER_CONFIG) config: Pick<WorkerConfig, 'agentIsolation'>) {
    this.identity = isolationIdentity(config.agentIsolation);
  }

  onModuleInit(): void {
    if (this.identity !== undefined || warnedOnce) return;
    warnedOnce = true;
    const uid = process.getuid?.() ?? -1;
    this.logger.warn(
      uid === 0
        ? 'AGENT ISOLATION IS OFF (AGENT_ISOLATION=off): the agent runs as root, with the worker, and can read its memory, environment and files'
        : `AGENT ISOLATION IS UNAVAILABLE: the worker is not root (uid ${uid}), so the agent runs as the worker's own user and can read its files; run the worker as root (the container does) for uid separation`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.killAll();
    for (const dir of [this.home, this.privateDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }

  /**
   * Hands the work dir to the agent: checks that the agent can reach it, gives it (recursively, without
   * following symlinks) to the agent's uid and creates the agent's fresh HOME (0700, its own).
   */
  async handOver(workDir: string): Promise<void> {
    if (this.identity) {
      await assertReachable(workDir, this.identity);
      await chownTree(workDir, this.identity);
    }
    await this.agentHome();
  }

  /** The agent's HOME for this job: fresh, empty, mode 0700, owned by the agent. */
  async agentHome(): Promise<string> {
    if (this.home) return this.home;
    const home = await mkdtemp(join(tmpdir(), 'agent-conductor-home-'));
    if (this.identity) await lchown(home, this.identity.uid, this.identity.gid);
    await chmod(home, 0o700);
    this.home = home;
    return home;
  }

  /** A fresh dir (0700) inside the agent's HOME, owned by the agent: for state a program run as the agent writes. */
  async agentOwnedDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(await this.agentHome(), prefix));
    if (this.identity) await lchown(dir, this.identity.uid, this.identity.gid);
    await chmod(dir, 0o700);
    return dir;
  }

  /**
   * The worker's private dir (mkdtemp: 0700, the worker's), outside the work dir: the HOME of the worker's own git
   * processes, so that neither the operator's nor the agent's ~/.gitconfig applies (GIT_CONFIG_GLOBAL=/dev/null
   * already says so; this is the second lock), and the codex wrapper.
   */
  async workerPrivateDir(): Promise<string> {
    this.privateDir ??= await mkdtemp(join(tmpdir(), 'agent-conductor-worker-private-'));
    return this.privateDir;
  }

  /** argv run as the agent: through setpriv when isolated, as given otherwise. */
  command(argv: readonly string[]): AgentCommand {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('an agent command needs an executable');
    if (!this.identity) return { file, args };
    const { uid, gid } = this.identity;
    return { file: SETPRIV, args: [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--no-new-privs', '--', file, ...args] };
  }

  /**
   * The agent's environment: the worker's minus everything secret-looking and every per-user location (HOME,
   * XDG dirs), plus the agent's own HOME and `extra`.
   */
  async env(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
    const env = scrubbedEnv(process.env);
    for (const name of Object.keys(env)) if (/^(HOME|USER|LOGNAME|MAIL|XDG_\w+|GIT_\w+|SSH_AUTH_SOCK|SUDO_\w+)$/.test(name)) delete env[name];
    const home = await this.agentHome();
    return { ...env, HOME: home, USER: 'agent', LOGNAME: 'agent', ...this.jobEnv, ...extra };
  }

  /** Variables for the agent's processes from now on; paths only, never a secret value (the agent's env is readable in /proc). */
  setJobEnv(vars: Record<string, string>): void {
    this.jobEnv = { ...vars };
  }

  /**
   * An executable, owned by the worker, that runs `target` as the agent; for spawners we do not control, such as
   * the Codex SDK (its codexPathOverride). Undefined when not isolated: then the target runs as it is.
   */
  async wrapperFor(target: string): Promise<string | undefined> {
    if (!this.identity) return undefined;
    const dir = await mkdtemp(join(await this.workerPrivateDir(), 'wrapper-'));
    const path = join(dir, 'run-as-agent');
    const { file, args } = this.command([target]);
    await writeFile(path, `#!/bin/sh\nexec ${[file, ...args].map(shellQuote).join(' ')} "$@"\n`, { mode: 0o700 });
    return path;
  }

  /**
   * SIGKILLs every process of the agent's uid and waits until none is left alive (zombies cannot act: PID 1,
   * tini in the image, reaps them). Called after every agent run and before any credential is used, so nothing
   * the agent left behind can race the push. Does nothing when not isolated: then the agent's process group is
   * all the worker can tell apart from itself, and the runner has ended it.
   */
  async killAll(): Promise<number> {
    const identity = this.identity;
    if (!identity) return 0;
    let killed = 0;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      // kill(-1) from inside the uid is one atomic sweep: the kernel holds the task list while it signals, so a
      // fork loop cannot outrun it. The /proc scan below catches what it could not signal.
      await this.killFromInside();
      const alive = await processesOf(identity.uid);
      if (alive.length === 0) {
        if (killed > 0) this.logger.log(`Ended ${killed} leftover agent process(es)`);
        return killed;
      }
      for (const pid of alive) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // Already gone.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, KILL_ROUND_PAUSE_MS));
    }
    throw new Error(`processes of the agent's uid ${identity.uid} are still alive after ${KILL_ROUNDS} rounds of SIGKILL; refusing to go on`);
  }

  private killFromInside(): Promise<void> {
    const { file, args } = this.command(['/bin/sh', '-c', 'kill -KILL -1 2>/dev/null; exit 0']);
    return new Promise((resolve) => {
      const child = spawn(file, args, { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
  }
}

function isolationIdentity(config: AgentIsolationConfig): AgentIdentity | undefined {
  if (config.mode === 'off') return undefined;
  if (process.getuid?.() !== 0) return undefined;
  return { uid: config.uid, gid: config.gid };
}

/** Live (not zombie) processes with the uid as real, effective, saved or filesystem uid. */
export async function processesOf(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = await readFile(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    if (/^State:\s+[ZX]/m.test(status)) continue;
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    if (uids && uids.slice(1).some((value) => Number(value) === uid)) pids.push(Number(entry));
  }
  return pids;
}

/** Every directory above workDir must be searchable by the agent, or its cwd would be unreachable by path. */
async function assertReachable(workDir: string, identity: AgentIdentity): Promise<void> {
  for (let dir = dirname(workDir); ; dir = dirname(dir)) {
    const stat = await lstat(dir);
    const searchable = (stat.mode & 0o001) !== 0 || (stat.uid === identity.uid && (stat.mode & 0o100) !== 0) || (stat.gid === identity.gid && (stat.mode & 0o010) !== 0);
    if (!searchable) {
      throw new Error(
        `the agent (uid ${identity.uid}) cannot reach the work dir ${workDir}: ${dir} has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; ` +
          'make it traversable but not listable (chmod 0711), or set AGENT_ISOLATION=off',
      );
    }
    if (dir === dirname(dir)) return;
  }
}

async function chownTree(path: string, identity: AgentIdentity): Promise<void> {
  const stat = await lstat(path);
  await lchown(path, identity.uid, identity.gid);
  if (!stat.isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), identity);
}

function shellQuote(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}
