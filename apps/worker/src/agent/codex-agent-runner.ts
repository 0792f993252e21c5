import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Codex, Thread, ThreadOptions } from '@openai/codex-sdk';
import { WORKER_CONFIG } from '../config/config.module';
import { workerSecrets, type CodexConfig, type WorkerConfig } from '../config/env.validators';
import { FileSystem } from '../fs/file-system';
import type { ModelProxy } from '../model-proxy/model-proxy';
import { MODEL_API_KEY_READER, ModelProxyService, type ModelApiKeyReader } from '../model-proxy/model-proxy.service';
import { AgentSandbox } from '../process/agent-sandbox';
import type { AgentRunner, AgentRunRequest, AgentRunResult, AgentUsage } from './agent-runner';
import { ENDING_REPORT_PROMPT, initialPrompt } from './codex-prompts';
import { bundledCodexPath, loadCodexSdk } from './codex-sdk';
import { AGENT_META_DIR } from './command-agent-runner';
import { DEFAULT_AGENT_SESSION_MAX_BYTES, restoreCodexSession, saveCodexSession } from './codex-session';
import { isReconnectNotice, redactor, Transcript } from './transcript';

export const TRANSCRIPT_FILE = 'transcript.md';
export const USAGE_FILE = 'usage.json';
/** Enough for the WorkerRunner's report and a human's first look; the full account is transcript.md. */
const OUTPUT_TAIL_CHARS = 16 * 1024;
/** After an abort the SDK kills codex with SIGTERM; a codex that ignores it is abandoned after this long. */
const ABORT_GRACE_MS = 5_000;
/** The model provider codex is configured with: the worker's model proxy. */
const PROVIDER_ID = 'agent_conductor_proxy';
/** Where codex finds the per-run proxy key; the real model key is never in codex's environment. */
export const RUN_KEY_ENV = 'AGENT_CONDUCTOR_MODEL_KEY';

interface Turn {
  label: string;
  prompt: string;
}

type TurnOutcome = { kind: 'completed' } | { kind: 'failed'; message: string } | { kind: 'timedOut' };

/** Everything that lives as long as one job: the thread is continued by every later attempt. */
interface CodexJob {
  workDir: string;
  codex: Codex;
  threadOptions: ThreadOptions;
  thread: Thread;
  /** The thread is the earlier job's, resumed (a follow-up); false once a failed resume fell back to a fresh one. */
  resumed: boolean;
  proxy: ModelProxy;
  /** A fresh CODEX_HOME in the agent's HOME, outside the work dir: no auth.json or config of anyone else's, and not uploaded. */
  codexHome: string;
  transcript: Transcript;
  redact: (text: string) => string;
  turns: number;
  /** Time spent inside codex turns, which is what AGENT_TIMEOUT_MS bounds. */
  elapsedMs: number;
}

/**
 * Runs the job with the Codex SDK in one thread: attempt 1 is the task prompt and then the ending-report
 * prompt; each later attempt (an artifact correction) continues the same thread. Codex runs without
 * approvals and with full access: the worker's container is the sandbox. It talks to the model only through
 * the worker's model proxy, which holds the real key and the job's token budget.
 */
@Injectable()
export class CodexAgentRunner implements AgentRunner, OnModuleDestroy {
  private readonly logger = new Logger(CodexAgentRunner.name);
  private job: CodexJob | undefined;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    private readonly fs: FileSystem,
    private readonly modelProxies: ModelProxyService,
    @Inject(MODEL_API_KEY_READER) private readonly readModelApiKey: ModelApiKeyReader,
    private readonly sandbox: AgentSandbox,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.endJob();
  }

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
      job = await this.startJob(request.workDir, settings, request.maxTokens, request.resumeThreadId);
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

    for (let index = 0; index < turns.length; index++) {
      const turn = turns[index];
      if (turn === undefined) break;
      if (request.stop?.aborted) {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `stopped before turn ${job.turns + 1}: the conductor asked this worker to stop`);
      }
      const spent = job.proxy.budgetSpent();
      if (spent !== undefined) {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `stopped before turn ${job.turns + 1}: ${spent}`, spent);
      }
      if (job.turns >= settings.maxTurns) {
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `stopped before turn ${job.turns + 1}: the job's turn limit (AGENT_MAX_TURNS=${settings.maxTurns}) is reached`);
      }
      const remainingMs = this.config.agentTimeoutMs - job.elapsedMs;
      if (remainingMs <= 0) {
        return this.finish(job, metaDir, { exitCode: null, timedOut: true }, `stopped: the job's wall-time limit (AGENT_TIMEOUT_MS=${this.config.agentTimeoutMs}) is used up`);
      }
      const outcome = await this.runTurn(job, turn, request.attempt, remainingMs, request.stop);
      if (outcome.kind === 'timedOut') {
        return this.finish(job, metaDir, { exitCode: null, timedOut: true }, `stopped: the job's wall-time limit (AGENT_TIMEOUT_MS=${this.config.agentTimeoutMs}) was reached during turn ${job.turns}`);
      }
      if (outcome.kind === 'failed' && job.resumed && job.turns === 1 && job.proxy.budgetRefusal() === undefined) {
        // A session codex cannot resume (another CLI version, a damaged file) must not cost the follow-up its job.
        const reason = `resuming thread ${job.thread.id ?? '?'} failed in its first turn (${outcome.message}); starting a fresh thread once`;
        this.logger.warn(reason);
        job.transcript.note(`**Context not reused:** ${reason}`);
        job.thread = job.codex.startThread(job.threadOptions);
        job.resumed = false;
        index--;
        continue;
      }
      if (outcome.kind === 'failed') {
        // The proxy's refusal is the cause; codex only reports the 400 it got.
        const refusal = job.proxy.budgetRefusal();
        return this.finish(job, metaDir, { exitCode: 1, timedOut: false }, `codex failed in turn ${job.turns} (${turn.label}): ${outcome.message}`, refusal);
      }
    }
    return this.finish(job, metaDir, { exitCode: 0, timedOut: false }, undefined);
  }

  private async startJob(workDir: string, settings: CodexConfig, routeMaxTokens: number | undefined, resumeThreadId: string | undefined): Promise<CodexJob> {
    await this.endJob();
    const { Codex } = await loadCodexSdk();
    const proxy = await this.modelProxies.start(routeMaxTokens);
    // Codex runs as the agent and writes its session files here, so the agent's uid owns it.
    const codexHome = await this.sandbox.agentOwnedDir('codex-home-');
    // The SDK spawns codex itself, with no say over its uid: a worker-owned wrapper drops to the agent's ids. A
    // wrapper replaces the SDK's own lookup of its bundled binary, so the worker names that binary.
    // Without either, `codex` from PATH (the image installs it globally): the agent's codex never falls back to
    // the SDK's own spawn, which would run it as the worker.
    const target = settings.path ?? bundledCodexPath() ?? 'codex';
    const codexPath = (await this.sandbox.wrapperFor(target)) ?? settings.path;
    const codex = new Codex({
      ...(codexPath !== undefined ? { codexPathOverride: codexPath } : {}),
      // No baseUrl and no apiKey: the SDK would hand codex the real key (CODEX_API_KEY) and the built-in
      // OpenAI provider, which tries WebSockets first. See docs/codex.md, "Transport".
      config: {
        model_provider: PROVIDER_ID,
        model_providers: {
          [PROVIDER_ID]: { name: 'Agent Conductor model proxy', base_url: proxy.baseUrl, env_key: RUN_KEY_ENV, wire_api: 'responses', supports_websockets: false },
        },
        // The default exclusions (names with KEY, SECRET or TOKEN) keep even the run key out of the commands codex runs.
        shell_environment_policy: { ignore_default_excludes: false },
      },
      env: codexEnv(await this.sandbox.env({ [RUN_KEY_ENV]: proxy.runKey, CODEX_HOME: codexHome, GIT_TERMINAL_PROMPT: '0' })),
    });
    const threadOptions: ThreadOptions = {
      model: settings.model,
      workingDirectory: workDir,
      skipGitRepoCheck: true,
      sandboxMode: 'danger-full-access',
      approvalPolicy: 'never',
    };
    const modelApiKey = this.readModelApiKey();
    // workerSecrets read at each call: an AWS session refreshed during the run is hidden from then on too.
    const redact = (text: string): string => redactor([...workerSecrets(this.config), modelApiKey, proxy.runKey])(text);
    const transcript = new Transcript(workDir, redact);
    const resumable = resumeThreadId ? await this.restoreSession(workDir, codexHome, resumeThreadId, settings, transcript) : false;
    const thread = resumable && resumeThreadId ? codex.resumeThread(resumeThreadId, threadOptions) : codex.startThread(threadOptions);
    const job: CodexJob = { workDir, codex, threadOptions, thread, resumed: resumable, proxy, codexHome, transcript, redact, turns: 0, elapsedMs: 0 };
    this.job = job;
    return job;
  }

  /** Whether the earlier thread's session is in the new CODEX_HOME; why not goes to the log and the transcript. */
  private async restoreSession(workDir: string, codexHome: string, threadId: string, settings: CodexConfig, transcript: Transcript): Promise<boolean> {
    const restore = await restoreCodexSession(this.fs, { workDir, codexHome, threadId, maxBytes: settings.sessionMaxBytes ?? DEFAULT_AGENT_SESSION_MAX_BYTES }).catch(
      (error: unknown) => ({ restored: false as const, reason: error instanceof Error ? error.message : String(error) }),
    );
    if (restore.restored) {
      this.logger.log(`Resuming the earlier job's codex thread ${threadId} (${restore.files} session file(s))`);
      return true;
    }
    this.logger.warn(`Not resuming codex thread ${threadId}: ${restore.reason}; the agent starts a fresh thread`);
    transcript.note(`**Context not reused:** ${restore.reason}; a fresh thread.`);
    return false;
  }

  /** Keeps the job's thread for a follow-up (agent-session/ in the results); the caller has ended the agent's processes. */
  async saveSession(workDir: string): Promise<string | undefined> {
    const job = this.job;
    const threadId = job?.thread.id;
    if (!job || job.workDir !== workDir || !threadId) return undefined;
    const save = await saveCodexSession(this.fs, {
      codexHome: job.codexHome,
      workDir,
      threadId,
      redact: job.redact,
      maxBytes: this.config.codex?.sessionMaxBytes ?? DEFAULT_AGENT_SESSION_MAX_BYTES,
    });
    if (!save.saved) {
      this.logger.warn(`Codex thread ${threadId} not saved for a follow-up: ${save.reason}`);
      return undefined;
    }
    this.logger.log(`Codex thread ${threadId} saved for a follow-up (${save.files} file(s), ${save.bytes} bytes)`);
    return threadId;
  }

  private async endJob(): Promise<void> {
    const job = this.job;
    this.job = undefined;
    if (!job) return;
    await this.modelProxies.close(job.proxy);
    await rm(job.codexHome, { recursive: true, force: true });
  }

  private async runTurn(job: CodexJob, turn: Turn, attempt: number, remainingMs: number, stop: AbortSignal | undefined): Promise<TurnOutcome> {
    job.turns++;
    job.transcript.beginTurn(`Turn ${job.turns}: ${turn.label} (attempt ${attempt})`);
    this.logger.log(`Codex turn ${job.turns} (${turn.label}, attempt ${attempt}) starting${job.thread.id ? ` on thread ${job.thread.id}` : ''}`);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, remainingMs);
    // A cancel ends the turn the way the timeout does; the caller sees the stop and reports it, not the killed codex.
    const onStop = (): void => controller.abort();
    if (stop?.aborted) controller.abort();
    else stop?.addEventListener('abort', onStop, { once: true });
    const failures: string[] = [];
    let completed = false;
    const consume = async (): Promise<void> => {
      const { events } = await job.thread.runStreamed(turn.prompt, { signal: controller.signal });
      for await (const event of events) {
        job.transcript.record(event);
        if (event.type === 'turn.completed') {
          completed = true;
        } else if (event.type === 'turn.failed') {
          failures.push(event.error.message);
        } else if (event.type === 'error' && !isReconnectNotice(event.message)) {
          // codex reports every retry of the model stream as an error event; only what follows the last one is fatal.
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
      stop?.removeEventListener('abort', onStop);
      job.elapsedMs += Date.now() - started;
      job.transcript.endTurn();
    }
    const outcome: TurnOutcome = timedOut
      ? { kind: 'timedOut' }
      : failures.length > 0
        ? { kind: 'failed', message: job.redact([...new Set(failures)].join('; ')) }
        : completed
          ? { kind: 'completed' }
          : { kind: 'failed', message: 'the codex turn ended without turn.completed' };
    const usage = job.proxy.usage();
    this.logger.log(`Codex turn ${job.turns} ended: ${outcome.kind}; ${usage.inputTokens} input / ${usage.outputTokens} output tokens so far`);
    return outcome;
  }

  /** Every run ends here, so the transcript and the usage on disk always match what run() returns. */
  private async finish(
    job: CodexJob,
    metaDir: string,
    status: { exitCode: number | null; timedOut: boolean },
    stopReason: string | undefined,
    error?: string,
  ): Promise<AgentRunResult> {
    if (stopReason !== undefined) job.transcript.note(`**Stopped:** ${stopReason}`);
    // The proxy's meter, not codex's turn.completed: it also counts the responses of a turn that failed.
    const metered = job.proxy.usage();
    const usage: AgentUsage = {
      inputTokens: metered.inputTokens,
      cachedInputTokens: metered.cachedInputTokens,
      outputTokens: metered.outputTokens,
      turns: job.turns,
      durationMs: job.elapsedMs,
      model: this.config.codex?.model ?? null,
      ...(job.resumed ? { contextReused: true as const } : {}),
    };
    const transcript = job.transcript.render();
    await this.fs.writeAgentText(job.workDir, `${metaDir}/${TRANSCRIPT_FILE}`, transcript);
    await this.fs.writeAgentText(job.workDir, `${metaDir}/${USAGE_FILE}`, `${JSON.stringify(usage, null, 2)}\n`);
    if (stopReason !== undefined) this.logger.warn(job.redact(stopReason));
    const tail = transcript.slice(-OUTPUT_TAIL_CHARS);
    return { ...status, output: stopReason === undefined ? tail : `${tail}\n${job.redact(stopReason)}\n`, usage, ...(error !== undefined ? { error } : {}) };
  }
}

/**
 * Codex gets the agent's environment (see AgentSandbox.env: the worker's minus everything secret-looking, with the
 * agent's own HOME) plus the proxy's run key, which is worth nothing outside this worker's proxy, and its CODEX_HOME.
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
