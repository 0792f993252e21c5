import { Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';

export interface ProcessRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Only the last this-many bytes of combined stdout/stderr are kept. */
  outputTailBytes: number;
  /** Ends the process group like a timeout does, without counting as one (the job was cancelled). */
  signal?: AbortSignal;
}

export interface ProcessRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

/** Runs child processes in their own process group, so a timeout kills everything they started. */
@Injectable()
export class ProcessRunner {
  runShell(command: string, options: ProcessRunOptions): Promise<ProcessRunResult> {
    return this.run('/bin/sh', ['-c', command], options);
  }

  run(file: string, args: readonly string[], options: ProcessRunOptions): Promise<ProcessRunResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let tail = Buffer.alloc(0);
      const append = (data: Buffer): void => {
        const joined = Buffer.concat([tail, data]);
        tail = joined.length > options.outputTailBytes ? joined.subarray(joined.length - options.outputTailBytes) : joined;
      };
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      let timedOut = false;
      const killGroup = (signal: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
      };
      let killTimer: NodeJS.Timeout | undefined;
      const end = (): void => {
        killGroup('SIGTERM');
        killTimer ??= setTimeout(() => killGroup('SIGKILL'), 5_000);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        end();
      }, options.timeoutMs);
      const stop = options.signal;
      if (stop?.aborted) end();
      else stop?.addEventListener('abort', end, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        stop?.removeEventListener('abort', end);
      };
      child.on('error', (error) => {
        settle();
        reject(error);
      });
      child.on('close', (exitCode, signal) => {
        settle();
        resolvePromise({ exitCode, signal, timedOut, output: tail.toString('utf8') });
      });
    });
  }
}
