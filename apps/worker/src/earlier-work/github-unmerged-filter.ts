import type { workerV1 } from '@agent-conductor/contracts';
import { GitHubClient } from '../publish/github-client';
import { resolveGitHubRepository, type GitHubPublisherSettings } from '../publish/github-publisher';
import type { EarlierWorkContext, UnmergedFilter } from './unmerged-filter';

/** Unmerged = GitHub has an open pull request from the branch; its link and title are GitHub's. */
export class GitHubUnmergedFilter implements UnmergedFilter {
  private readonly client: GitHubClient;

  constructor(private readonly settings: GitHubPublisherSettings) {
    this.client = new GitHubClient({ token: settings.token, apiUrl: settings.apiUrl, retryDelayMs: settings.retryDelayMs ?? 1_000 });
  }

  async unmerged(context: EarlierWorkContext, candidates: workerV1.EarlierWork[]): Promise<workerV1.EarlierWork[]> {
    const repository = resolveGitHubRepository(context.cloneUrl, this.settings.repository);
    const kept: workerV1.EarlierWork[] = [];
    for (const candidate of candidates) {
      const open = await this.client.openPullRequestFrom(repository, candidate.branch);
      if (open) kept.push({ ...candidate, pullRequest: open.url, title: open.title });
    }
    return kept;
  }
}
