import { MAX_ROUTE_REPOSITORIES, repositoryNameProblem, sparsePathProblem, type RouteRepository } from './routing';

export type JobRepositoriesReading = { ok: true; repositories: RouteRepository[] } | { ok: false; problems: string[] };

/**
 * The jobs.repositories column, as the scheduler writes it from a route's `repositories` (docs/multi-repository.md),
 * read back as typed entries or every problem with its JSON path. The worker clones each under repo/<name>/. Null
 * (and an empty list) is the one-repository job of old: an empty list.
 */
export function readJobRepositories(value: unknown): JobRepositoriesReading {
  if (value === null || value === undefined) return { ok: true, repositories: [] };
  if (!Array.isArray(value)) return { ok: false, problems: ['repositories: must be a list'] };
  const problems: string[] = [];
  if (value.length > MAX_ROUTE_REPOSITORIES) problems.push(`repositories: at most ${MAX_ROUTE_REPOSITORIES} repositories, found ${value.length}`);
  const repositories: RouteRepository[] = [];
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
    if (typeof branch !== 'string' || branch.trim() === '') problems.push(`${path}.branch: must be a non-empty string`);
    if (typeof name !== 'string') {
      problems.push(`${path}.name: must be a string`);
    } else {
      const problem = repositoryNameProblem(name);
      if (problem !== null) problems.push(`${path}.name: ${problem}`);
      const first = seen.get(name);
      if (first !== undefined) problems.push(`${path}.name: "${name}" is already the name of repositories[${first}]`);
      else seen.set(name, index);
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
    if (typeof url === 'string' && typeof name === 'string' && typeof branch === 'string') {
      repositories.push({ url, branch, name, sparsePaths: sparse });
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, repositories };
}
