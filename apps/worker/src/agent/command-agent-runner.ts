import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { WORKER_CONFIG } from '../config/config.module';
import type { WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import { AgentSandbox } from '../process/agent-sandbox';
import { ProcessRunner } from '../process/process-runner';
import type { AgentRunner, AgentRunRequest, AgentRunResult } from './agent-runner';

export const AGENT_META_DIR = 'agent-meta';
const OUTPUT_TAIL_BYTES = 64 * 1024;

export function promptFileName(attempt: number): string {
  return `prompt-attempt-${attempt}.md`;
}

/** Runs AGENT_COMMAND with /bin/sh in the work dir; the prompt travels as a file named by AGENT_PROMPT_FILE. */
@Injectable()
export class CommandAgentRunner implements AgentRunner {
  private readonly logger = new Logger(CommandAgentRunner.name);
  /** Across the job's attempts, like the Codex runner's usage: one worker runs one job. */
  private elapsedMs = 0;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly processes: ProcessRunner,
    private readonly fs: FileSystem,
    private readonly sandbox: AgentSandbox,
  ) {}

  async run(request: AgentRunRequest): Promise<AgentRunResult> {
    const promptPath = `${AGENT_META_DIR}/${promptFileName(request.attempt)}`;
    await this.fs.writeAgentText(request.workDir, promptPath, request.prompt.endsWith('\n') ? request.prompt : `${request.prompt}\n`);
    const promptFile = join(request.workDir, promptPath);
    this.logger.log(`Agent attempt ${request.attempt} starting`);
    const started = Date.now();
    const { file, args } = this.sandbox.command(['/bin/sh', '-c', this.config.agentCommand]);
    const result = await this.processes.run(file, args, {
      cwd: request.workDir,
      env: await this.sandbox.env({
        AGENT_PROMPT_FILE: promptFile,
        AGENT_ATTEMPT: String(request.attempt),
        GIT_TERMINAL_PROMPT: '0',
      }),
      timeoutMs: this.config.agentTimeoutMs,
      outputTailBytes: OUTPUT_TAIL_BYTES,
      ...(request.stop ? { signal: request.stop } : {}),
    });
    this.logger.log(`Agent attempt ${request.attempt} ended: ${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal}`}`);
    this.elapsedMs += Date.now() - started;
    // A shell command's tokens and turns are nobody's to count; its time is.
    const usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, turns: 0, durationMs: this.elapsedMs, model: null };
    return { exitCode: result.exitCode, timedOut: result.timedOut, output: result.output, usage };
  }
}
