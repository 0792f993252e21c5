export interface AgentRunRequest {
  workDir: string;
  /** What the agent is asked to do on this attempt. */
  prompt: string;
  /** 1-based. */
  attempt: number;
  /** The route's token budget for the job (from the handshake); undefined: only the worker's AGENT_MAX_TOKENS. */
  maxTokens?: number;
  /** Fires when the conductor asks the worker to stop (the job was cancelled): the runner ends the agent at once. */
  stop?: AbortSignal;
  /** A follow-up's earlier Codex thread, whose session files the task archive put in `agent-session/`: resume it. */
  resumeThreadId?: string;
}

export interface AgentRunResult {
  exitCode: number | null;
  timedOut: boolean;
  /** The tail of the agent's combined output. */
  output: string;
  /** Why the run failed, when the runner knows better than the exit code (e.g. "budget exceeded: …"). */
  error?: string;
  /** Cumulative for the job so far, when the runner can measure it (Codex can; a shell command cannot). */
  usage?: AgentUsage;
}

export interface AgentUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  turns: number;
  durationMs: number;
  /** null when the agent's own default model was used. */
  model: string | null;
  /** Set when the agent ran in the earlier job's resumed thread (a follow-up), not in a fresh one. */
  contextReused?: true;
}

/** One way of running an agent (a shell command, or Codex). */
export interface AgentRunner {
  run(request: AgentRunRequest): Promise<AgentRunResult>;
  /**
   * After the last run, with the agent's processes gone: keeps what a follow-up needs to resume the agent's thread in
   * `agent-session/` of the work dir, and returns the thread id (undefined: nothing saved, e.g. a shell command).
   */
  saveSession?(workDir: string): Promise<string | undefined>;
}

export const AGENT_RUNNER = Symbol('AGENT_RUNNER');

export const FIRST_PROMPT = 'Do the task in TASK.md following AGENTS.md';
