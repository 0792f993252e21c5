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
}

/** One way of running an agent (a shell command, or Codex). */
export interface AgentRunner {
  run(request: AgentRunRequest): Promise<AgentRunResult>;
}

export const AGENT_RUNNER = Symbol('AGENT_RUNNER');

export const FIRST_PROMPT = 'Do the task in TASK.md following AGENTS.md';
