import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { scrubbedEnv } from '../process/child-env';

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

/** Every git invocation of the worker. Never prompts for credentials: the worker has none to give. */
@Injectable()
export class GitCli {
  /**
   * extraEnv is added after the scrub, so a caller can hand one git process a credential (as
   * GIT_CONFIG_* variables) without it ever sitting in argv, the environment of other children or a config file.
   */
  run(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      execFile(
        'git',
        args,
        {
          cwd,
          env: scrubbedEnv(process.env, { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extraEnv }),
          maxBuffer: 16 * 1024 * 1024,
          timeout: 10 * 60 * 1000,
        },
        (error, stdout, stderr) => {
          if (error) {
            const code = typeof error.code === 'number' ? error.code : null;
            reject(new GitCommandError(args, code, stderr || error.message));
            return;
          }
          resolvePromise(stdout);
        },
      );
    });
  }

  /** Like run, but a non-zero exit is an answer rather than an error. */
  async tryRun(cwd: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string }> {
    try {
      return { ok: true, stdout: await this.run(cwd, args) };
    } catch (error) {
      if (error instanceof GitCommandError) return { ok: false, stderr: error.stderr };
      throw error;
    }
  }
}
