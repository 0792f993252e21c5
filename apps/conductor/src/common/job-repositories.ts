import type { workerV1 } from '@agent-conductor/contracts';
import type { Job } from '@agent-conductor/db';
import { readJobRepositories, type RouteRepository } from '@agent-conductor/scheduling-domain';

/** jobs.repositories holds something the worker cannot be given; another attempt would read the same row. */
export class InvalidJobRepositoriesError extends Error {
  readonly retryable = false;

  constructor(jobId: string, problems: readonly string[]) {
    super(`job ${jobId} has unusable repositories: ${problems.join('; ')}`);
    this.name = 'InvalidJobRepositoriesError';
  }
}

/** The job's repositories (docs/multi-repository.md), in order; empty for a one-repository job. */
export function jobRepositories(job: Pick<Job, 'id' | 'repositories'>): RouteRepository[] {
  const reading = readJobRepositories(job.repositories);
  if (!reading.ok) throw new InvalidJobRepositoriesError(job.id, reading.problems);
  return reading.repositories;
}

/** The handshake's `repositories`, in the job's order. */
export function repositorySpecs(job: Pick<Job, 'id' | 'repositories'>): workerV1.RepositorySpec[] {
  return jobRepositories(job).map((repository) => ({
    cloneUrl: repository.url,
    defaultBranch: repository.branch,
    sparsePaths: repository.sparsePaths,
    name: repository.name,
  }));
}

/**
 * A follow-up continues one pull request, and a job over several repositories opened one per changed repository:
 * the repository whose entry in the first job's result.changes holds that pull request.
 */
export function continuedRepository(repositories: readonly RouteRepository[], firstResult: unknown, pullRequest: string): RouteRepository | undefined {
  const changes = typeof firstResult === 'object' && firstResult !== null ? (firstResult as Record<string, unknown>)['changes'] : undefined;
  if (!Array.isArray(changes)) return undefined;
  const change = changes.find((entry: unknown) => typeof entry === 'object' && entry !== null && (entry as Record<string, unknown>)['pullRequest'] === pullRequest) as Record<string, unknown> | undefined;
  return change === undefined ? undefined : repositories.find((repository) => repository.name === change['name']);
}
