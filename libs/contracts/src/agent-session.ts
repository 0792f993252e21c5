/**
 * Where a worker saves its Codex thread's session in the results it uploads, and where a follow-up's worker finds it
 * in its task archive (docs/context-reuse.md); the conductor moves it from one to the other.
 */
export const AGENT_SESSION_DIR = 'agent-session';
/** A session is one rollout file per thread plus thread.json and its directories; far fewer than this. */
export const AGENT_SESSION_MAX_ENTRIES = 64;
/** What the conductor carries over: above the worker's default AGENT_SESSION_MAX_BYTES (16 MiB), so a saved session fits. */
export const AGENT_SESSION_MAX_BYTES = 64 * 1024 * 1024;
