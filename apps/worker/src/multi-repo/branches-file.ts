import { AGENT_META_DIR } from '../agent/command-agent-runner';

/** Where the agent names, per changed repository, the branch that holds its commits (docs/multi-repository.md). */
export const BRANCHES_FILE = `${AGENT_META_DIR}/branches.json`;

/** A few repositories with branch names; anything near this size is not a branches file. */
export const BRANCHES_FILE_MAX_BYTES = 64 * 1024;

const MAX_BRANCH_CHARS = 255;

export interface BranchesFile {
  /** Repository name → branch, only for the names the file was allowed to use. */
  branches: Map<string, string>;
  /** Worded for the agent, each naming the repository it is about where there is one. */
  errors: string[];
}

/** A value from the agent's file, safe to quote back in an error: short, one line, JSON-quoted. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Reads the text of agent-meta/branches.json against the job's repository names. */
export function parseBranchesFile(text: string, names: readonly string[]): BranchesFile {
  const branches = new Map<string, string>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { branches, errors: [`${BRANCHES_FILE} is not valid JSON (${error instanceof Error ? error.message : String(error)}); write one object { "<repository>": "<branch>" }`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { branches, errors: [`${BRANCHES_FILE} must be one JSON object { "<repository>": "<branch>" }, e.g. {"${names[0] ?? 'name'}": "fix/short-description"}`] };
  }
  const errors: string[] = [];
  for (const [name, branch] of Object.entries(parsed as Record<string, unknown>)) {
    if (!names.includes(name)) {
      errors.push(`${BRANCHES_FILE} names ${quoted(name)}, which is not one of this job's repositories (${names.join(', ')})`);
    } else if (typeof branch !== 'string' || branch.trim() === '' || branch.length > MAX_BRANCH_CHARS) {
      errors.push(`${BRANCHES_FILE}: the branch for repo/${name}/ must be a branch name (a non-empty string of at most ${MAX_BRANCH_CHARS} characters)`);
    } else {
      branches.set(name, branch);
    }
  }
  return { branches, errors };
}
