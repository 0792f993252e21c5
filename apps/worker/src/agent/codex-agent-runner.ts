import { Inject, Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import type { Thread } from '@openai/codex-sdk';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type CodexConfig, type WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import { AgentSandbox } from '../process/agent-sandbox';
import type { AgentRunner, AgentRunRequest, AgentRunResult, AgentUsage } from './agent-runner';
import { ENDING_REPORT_PROMPT, initialPrompt } from './codex-prompts';
import { loadCodexSdk } from './codex-sdk';
import { AGENT_META_DIR } from './command-agent-runner';
import { redactor, Transcript } from './transcript';

export const TRANSCRIPT_FILE = 'transcript.md';
export const USAGE_FILE = 'usage.json';
/** Enough for the WorkerRunner's report and a human's first look; the full account is transcript.md. */
const OUTPUT_TAIL_CHARS = 16 * 1024;
/** After an abort the SDK kills codex with SIGTERM; a codex that ignores it is abandoned after this long. */
const ABORT_GRACE_MS = 5_000;

interface Turn {
  label: string;
  prompt: string;
}

type TurnOutcome = { kind: 'completed' } | { kind: 'failed'; message: string } | { kind: 'timedOut' };

/** Everything that lives as long as one job: the thread is continued by every later attempt. */
interface CodexJob {
  workDir: string;
  thread: Thread;
  transcript: Transcript;
  redact: (text: string) => string;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  turns: number;
  /** Time spent inside codex turns, which is what AGENT_TIMEOUT_MS bounds. */
  elapsedMs: number;
}

/**
 * Runs the job with the Codex SDK in one thread: attempt 1 is the task prompt and then the ending-report
 * prompt; each later attempt (an artifact correction) continues the same thread. Codex runs without
 * approvals and with full access: the worker's container is the sandbox.
 */
@Injectable()
export class CodexAgentRunner implements AgentRunner {
  private readonly logger = new Logger(CodexAgentRunner.name);
  private job: CodexJob | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly fs: FileSystem,
    private readonly sandbox: AgentSandbox,
  ) {}

  async run(request: AgentRunRequest): Promise<AgentRunResult> {
    const settings = this.config.codex;
    if (!settings) throw new Error('AGENT_KIND=codex needs its settings (OPENAI_API_KEY)');
    const metaDir = AGENT_META_DIR;

    let job = this.job;
    const continuing = request.attempt > 1 && job !== undefined && job.workDir === request.workDir && job.thread.id !== null;
    let turns: Turn[];
    if (continuing && job) {
      turns = [{ label: 'correction', prompt: request.prompt }];
    } else {
      job = await this.startJob(request.workDir, settings);
      const taskMd = await this.fs.readTextIfExists(join(request.workDir, 'TASK.md'));
      if (taskMd === undefined) {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, 'TASK.md is missing from the work directory; there is nothing to do');
      }
      const agentsMd = await this.fs.readTextIfExists(join(request.workDir, 'AGENTS.md'));
      turns = [
        { label: 'task', prompt: initialPrompt({ agentsMd, taskMd }, request.prompt) },
        { label: 'ending report', prompt: ENDING_REPORT_PROMPT },
      ];
    }

    for (const turn of turns) {
      if (job.turns >= settings.maxTurns) {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `stopped before turn ${job.turns + 1}: the job's turn limit (AGENT_MAX_TURNS=${settings.maxTurns}) is reached`);
      }
      const remainingMs = this.config.agentTimeoutMs - job.elapsedMs;
      if (remainingMs <= 0) {
        return this.finish(job, metaDir, { exitCode: null, timedOut: true }, `stopped: the job's wall-time limit (AGENT_TIMEOUT_MS=${this.config.agentTimeoutMs}) is used up`);
      }
      const outcome = await this.runTurn(job, turn, request.attempt, remainingMs);
      if (outcome.kind === 'timedOut') {
        return this.finish(job, metaDir, { exitCode: null, timedOut: true }, `stopped: the job's wall-time limit (AGENT_TIMEOUT_MS=${this.config.agentTimeoutMs}) was reached during turn ${job.turns}`);
      }
      if (outcome.kind === 'failed') {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `codex failed in turn ${job.turns} (${turn.label}): ${outcome.message}`);
      }
    }
    return this.finish(job, metaDir, { exitCode: 0, timedOut: false }, undefined);
  }

  private async startJob(workDir: string, settings: CodexConfig): Promise<CodexJob> {
    const { Codex } = await loadCodexSdk();
    // The SDK spawns codex itself, with no say over its uid: a worker-owned wrapper drops to the agent's ids.
    const codexPath = (await this.sandbox.wrapperFor(settings.path ?? 'codex')) ?? settings.path;
    const codex = new Codex({
      codexPathOverride: codexPath,
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      // The default exclusions (names with KEY, SECRET or TOKEN) keep the API key out of the commands codex runs.
      config: { shell_environment_policy: { ignore_default_excludes: false } },
      env: codexEnv(await this.sandbox.env({ OPENAI_API_KEY: settings.apiKey, GIT_TERMINAL_PROMPT: '0' })),
    });
    const thread = codex.startThread({
      model: settings.model,
      workingDirectory: workDir,
      skipGitRepoCheck: true,
      sandboxMode: 'danger-full-access',
      approvalPolicy: 'never',
    });
    const redact = redactor(workerSecrets(this.config));
    const job: CodexJob = {
      workDir,
      thread,
      transcript: new Transcript(workDir, redact),
      redact,
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
      turns: 0,
      elapsedMs: 0,
    };
    this.job = job;
    return job;
  }

  private async runTurn(job: CodexJob, turn: Turn, attempt: number, remainingMs: number): Promise<TurnOutcome> {
    job.turns++;
    job.transcript.beginTurn(`Turn ${job.turns}: ${turn.label} (attempt ${attempt})`);
    this.logger.log(`Codex turn ${job.turns} (${turn.label}, attempt ${attempt}) starting${job.thread.id ? ` on thread ${job.thread.id}` : ''}`);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, remainingMs);
    const failures: string[] = [];
    let completed = false;
    const consume = async (): Promise<void> => {
      const { events } = await job.thread.runStreamed(turn.prompt, { signal: controller.signal });
      for await (const event of events) {
        job.transcript.record(event);
        if (event.type === 'turn.completed') {
          completed = true;
          job.inputTokens += event.usage.input_tokens;
          job.cachedInputTokens += event.usage.cached_input_tokens;
          job.outputTokens += event.usage.output_tokens;
        } else if (event.type === 'turn.failed') {
          failures.push(event.error.message);
        } else if (event.type === 'error') {
          failures.push(event.message);
        }
      }
    };
    const started = Date.now();
    try {
      await settleOrAbandon(consume(), controller.signal, ABORT_GRACE_MS);
    } catch (error) {
      // After an abort the SDK reports the killed process; the timeout is the story, not that.
      if (!timedOut) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(message);
        job.transcript.note(`**Codex process failed:** ${message.trim()}`);
      }
    } finally {
      clearTimeout(timer);
      job.elapsedMs += Date.now() - started;
      job.transcript.endTurn();
    }
    const outcome: TurnOutcome = timedOut
      ? { kind: 'timedOut' }
      : failures.length > 0
        ? { kind: 'failed', message: job.redact(failures.join('; ')) }
        : completed
          ? { kind: 'completed' }
          : { kind: 'failed', message: 'the codex turn ended without turn.completed' };
    this.logger.log(`Codex turn ${job.turns} ended: ${outcome.kind}; ${job.inputTokens} input / ${job.outputTokens} output tokens so far`);
    return outcome;
  }

  /** Every run ends here, so the transcript and the usage on disk always match what run() returns. */
  private async finish(job: CodexJob, metaDir: string, status: { exitCode: number | null; timedOut: boolean }, stopReason: string | undefined): Promise<AgentRunResult> {
    if (stopReason !== undefined) job.transcript.note(`**Stopped:** ${stopReason}`);
    const usage: AgentUsage = {
      inputTokens: job.inputTokens,
      cachedInputTokens: job.cachedInputTokens,
      outputTokens: job.outputTokens,
      turns: job.turns,
      durationMs: job.elapsedMs,
      model: this.config.codex?.model ?? null,
    };
    const transcript = job.transcript.render();
    await this.fs.writeAgentText(job.workDir, `${metaDir}/${TRANSCRIPT_FILE}`, transcript);
    await this.fs.writeAgentText(job.workDir, `${metaDir}/${USAGE_FILE}`, `${JSON.stringify(usage, null, 2)}\n`);
    if (stopReason !== undefined) this.logger.warn(job.redact(stopReason));
    const tail = transcript.slice(-OUTPUT_TAIL_CHARS);
    return { ...status, output: stopReason === undefined ? tail : `${tail}\n${job.redact(stopReason)}\n`, usage };
  }
}

/**
 * Codex gets the agent's environment (see AgentSandbox.env), plus the key it needs. The SDK also passes the key
 * as CODEX_API_KEY, which `codex exec` reads.
 */
function codexEnv(agentEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(agentEnv)) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Waits for work; once the signal fires, waits at most graceMs more, because a killed process may not close its pipes. */
function settleOrAbandon(work: Promise<void>, signal: AbortSignal, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      grace = setTimeout(resolve, graceMs);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      if (grace) clearTimeout(grace);
      signal.removeEventListener('abort', onAbort);
    });
  });
}
