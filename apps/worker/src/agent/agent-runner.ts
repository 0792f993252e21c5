export interface AgentRunRequest {
  workDir: string;
  /** What the agent is asked to do on this attempt. */
  prompt: string;
  /** 1-based. */
  attempt: number;
}

export interface AgentRunResult {
  exitCode: number | null;
  timedOut: boolean;
  /** The tail of the agent's combined output. */
  output: string;
}

/** One way of running an agent (a shell command today, Codex later). */
export interface AgentRunner {
  run(request: AgentRunRequest): Promise<AgentRunResult>;
}

export const AGENT_RUNNER = Symbol('AGENT_RUNNER');

export const FIRST_PROMPT = 'Do the task in TASK.md following AGENTS.md';
