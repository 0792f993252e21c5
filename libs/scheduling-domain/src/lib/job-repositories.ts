import { sparsePathProblem } from './routing';

/**
 * One repository of a job over several (jobs.repositories, docs/multi-repository.md). The worker clones it under
 * repo/<name>/, so the name is a directory name the agent sees and the branches file refers to.
 */
export interface JobRepository {
  url: string;
  /** The base branch: cloned, and targeted by its pull request; null: the conductor's default branch. */
  branch: string | null;
  name: string;
  sparsePaths: string[];
}

/** Each repository is cloned, pushed and gets its own pull request; beyond this a job is not one piece of work. */
export const MAX_JOB_REPOSITORIES = 10;

/**
 * A directory name under repo/ that is also safe in a branch name, a file name and a Markdown list: no separators,
 * no dot-only or hidden names (".git" would be read as the parent's repository).
 */
const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
const MAX_REPOSITORY_NAME = 100;

export function repositoryNameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_REPOSITORY_NAME) return `must be at most ${MAX_REPOSITORY_NAME} characters`;
  if (!REPOSITORY_NAME.test(name)) return 'must be letters, digits, "-", "_" and inner dots (it is a directory under repo/)';
  return null;
}

export type JobRepositoriesReading = { ok: true; repositories: JobRepository[] } | { ok: false; problems: string[] };

/**
 * The jobs.repositories column read back as typed entries, or every problem with its JSON path. Null (and an empty
 * list) is the one-repository job of old: an empty list.
 */
export function readJobRepositories(value: unknown): JobRepositoriesReading {
  if (value === null || value === undefined) return { ok: true, repositories: [] };
  if (!Array.isArray(value)) return { ok: false, problems: ['repositories: must be a list'] };
  const problems: string[] = [];
  if (value.length > MAX_JOB_REPOSITORIES) problems.push(`repositories: at most ${MAX_JOB_REPOSITORIES} repositories, found ${value.length}`);
  const repositories: JobRepository[] = [];
  const seen = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const path = `repositories[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${path}: must be an object { url, branch, name, sparsePaths }`);
      return;
    }
    const record = entry as Record<string, unknown>;
    const { url, branch, name, sparsePaths } = record;
    const unknownKeys = Object.keys(record).filter((key) => !['url', 'branch', 'name', 'sparsePaths'].includes(key));
    if (unknownKeys.length > 0) problems.push(`${path}: unknown keys ${unknownKeys.join(', ')}`);
    if (typeof url !== 'string' || url.trim() === '') problems.push(`${path}.url: must be a non-empty string`);
    if (branch !== undefined && branch !== null && (typeof branch !== 'string' || branch.trim() === '')) problems.push(`${path}.branch: must be a non-empty string or null`);
    if (typeof name !== 'string') {
      problems.push(`${path}.name: must be a string`);
    } else {
      const problem = repositoryNameProblem(name);
      if (problem !== null) problems.push(`${path}.name: ${problem}`);
      const first = seen.get(name.toLowerCase());
      // Case-insensitive: repo/API and repo/api are one directory on some file systems.
      if (first !== undefined) problems.push(`${path}.name: "${name}" is already the name of repositories[${first}]`);
      else seen.set(name.toLowerCase(), index);
    }
    const sparse: string[] = [];
    if (sparsePaths !== undefined && sparsePaths !== null) {
      if (!Array.isArray(sparsePaths)) {
        problems.push(`${path}.sparsePaths: must be a list of paths`);
      } else {
        sparsePaths.forEach((candidate: unknown, at) => {
          const problem = typeof candidate === 'string' ? sparsePathProblem(candidate) : 'must be a string';
          if (problem !== null) problems.push(`${path}.sparsePaths[${at}]: ${problem}`);
          else sparse.push(candidate as string);
        });
      }
    }
    if (typeof url === 'string' && typeof name === 'string') {
      repositories.push({ url, branch: typeof branch === 'string' ? branch : null, name, sparsePaths: sparse });
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, repositories };
}
