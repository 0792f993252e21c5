import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { AgentSandbox } from '../process/agent-sandbox';

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim().slice(-2_000)}`);
    this.name = 'GitCommandError';
  }
}

/**
 * Settings that run a program or hook, given on the command line so that they beat any repository config.
 * Filters and diff drivers are not listed: git on the agent's repository runs as the agent (see runInAgentRepo),
 * so whatever it still runs, runs with the agent's rights, before every agent process is killed.
 */
const NEUTRALISED_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.untrackedCache=false',
  'core.pager=cat',
  'core.sshCommand=ssh',
  'diff.external=',
  'credential.helper=',
  'protocol.ext.allow=never',
  'safe.directory=*',
];

/** Operator settings the worker's own git keeps; everything else it inherits is dropped (GIT_TRACE*, GIT_DIR, …). */
const PASSED_THROUGH = /^(PATH|TMPDIR|LANG|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|GIT_SSL_CAINFO)$/;

/**
 * Every git invocation of the worker. Never prompts for credentials: the worker has none to give. No global or
 * system config, no XDG config and a private HOME, so neither the operator's nor the agent's ~/.gitconfig
 * (trace2.*, http.proxy, includeIf, url.*.insteadOf) applies.
 */
@Injectable()
export class GitCli {
  constructor(private readonly sandbox: AgentSandbox) {}

  /** The worker's own git (the clone, the scratch repository of a push), as the worker, with a hardened environment. */
  async run(cwd: string, args: string[]): Promise<string> {
    return this.exec('git', [...configArgs(), ...args], cwd, await this.env(await this.sandbox.workerPrivateDir(), {}), args);
  }

  /** Like run, but a non-zero exit is an answer rather than an error (e.g. merge-base --is-ancestor). */
  async tryRun(cwd: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string }> {
    try {
      return { ok: true, stdout: await this.run(cwd, args) };
    } catch (error) {
      if (error instanceof GitCommandError) return { ok: false, stderr: error.stderr };
      throw error;
    }
  }

  /**
   * The worker's own git with a credential in its environment (GIT_CONFIG_* variables, never argv or a file).
   * Every process of the agent's uid is killed first, so nothing it left running can watch or race this one.
   */
  async runWithCredential(cwd: string, args: string[], credentialEnv: Record<string, string>): Promise<string> {
    await this.sandbox.killAll();
    return this.exec('git', [...configArgs(), ...args], cwd, await this.env(await this.sandbox.workerPrivateDir(), credentialEnv), args);
  }

  /**
   * git on the agent's repository (validation, the commit to push), as the agent's uid: the repository's config,
   * attributes and filters are the agent's, so whatever they make git run gets no more rights than the agent had.
   */
  async runInAgentRepo(repoDir: string, args: string[]): Promise<string> {
    const { file, args: argv } = this.sandbox.command(['git', ...configArgs(), ...args]);
    return this.exec(file, argv, repoDir, await this.env(await this.sandbox.agentHome(), {}), args);
  }

  /** Like runInAgentRepo, but a non-zero exit is an answer rather than an error. */
  async tryRunInAgentRepo(repoDir: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string }> {
    try {
      return { ok: true, stdout: await this.runInAgentRepo(repoDir, args) };
    } catch (error) {
      if (error instanceof GitCommandError) return { ok: false, stderr: error.stderr };
      throw error;
    }
  }

  private async env(home: string, extra: Record<string, string>): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined && PASSED_THROUGH.test(name)) env[name] = value;
    return {
      ...env,
      HOME: home,
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ATTR_NOSYSTEM: '1',
      ...extra,
    };
  }

  private exec(file: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv, shownArgs: string[] = argv): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      execFile(file, argv, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60 * 1000 }, (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          reject(new GitCommandError(shownArgs, code, stderr || error.message));
          return;
        }
        resolvePromise(stdout);
      });
    });
  }
}

function configArgs(): string[] {
  return NEUTRALISED_CONFIG.flatMap((setting) => ['-c', setting]);
}
