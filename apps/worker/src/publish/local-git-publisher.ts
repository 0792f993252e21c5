import { Injectable, Logger } from '@nestjs/common';
import { FileSystem } from '../fs/file-system';
import { pushFromScratch } from '../git/authenticated-push';
import { GitCli } from '../git/git-cli';
import type { FollowUpCheckout } from '../workspace/repository.service';
import { followUpPushes, followUpReplyBody, pushFollowUp } from './follow-up-publication';
import { GITHUB_BODY_LIMIT } from './pr-body';
import { PUBLICATION_DIR, type Publisher, type PublishRequest, type PublishResult } from './publisher';

/**
 * Pushes the agent's branch to the clone's origin under worker/<workerId>/ and records, as JSON in
 * WORK_DIR/publication/, the pull request, failure report or incident report a hosted publisher would open.
 */
@Injectable()
export class LocalGitPublisher implements Publisher {
  private readonly logger = new Logger(LocalGitPublisher.name);

  constructor(
    private readonly git: GitCli,
    private readonly fs: FileSystem,
  ) {}

  async publish(request: PublishRequest): Promise<PublishResult> {
    if (request.followUp) return this.publishFollowUp(request, request.followUp);
    if (request.outcome === 'report') {
      // One reference per job, as the GitHub publisher keeps one issue per job: a retry overwrites its record.
      const report = `${request.repository.cloneUrl}#incident-report/${request.jobId}`;
      await this.fs.writeAgentText(
        request.workDir,
        `${PUBLICATION_DIR}/incident-report.json`,
        `${JSON.stringify(
          { kind: 'local-incident-report', reference: report, repository: request.repository.name || request.repository.cloneUrl, title: request.title, body: request.report },
          null,
          2,
        )}\n`,
      );
      this.logger.log(`Recorded incident report ${report}`);
      return { report, title: request.title };
    }
    const pushed = request.branch !== undefined && request.commitsAhead > 0 ? await this.push(request, request.branch) : undefined;

    if (request.outcome === 'change') {
      if (!pushed) throw new Error('nothing to publish: the agent reported success without a branch ahead of the default branch');
      const pullRequest = `${request.repository.cloneUrl}#${pushed}`;
      await this.fs.writeAgentText(
        request.workDir,
        `${PUBLICATION_DIR}/pull-request.json`,
        `${JSON.stringify(
          {
            kind: 'local-pull-request',
            reference: pullRequest,
            repository: request.repository.name || request.repository.cloneUrl,
            title: request.title,
            body: request.report,
            head: pushed,
            base: request.repository.defaultBranch,
          },
          null,
          2,
        )}\n`,
      );
      this.logger.log(`Recorded pull request ${pullRequest}`);
      return { branch: pushed, pullRequest, title: request.title };
    }

    const report = `${request.repository.cloneUrl}#agent-failed/${request.workerId}`;
    const title = `[agent-failed] ${request.title}`;
    await this.fs.writeAgentText(
      request.workDir,
      `${PUBLICATION_DIR}/failure-report.json`,
      `${JSON.stringify(
        {
          kind: 'local-failure-report',
          reference: report,
          repository: request.repository.name || request.repository.cloneUrl,
          title,
          body: request.report,
          ...(pushed ? { branch: pushed } : {}),
        },
        null,
        2,
      )}\n`,
    );
    this.logger.log(`Recorded failure report ${report}`);
    return { report, title: request.title, ...(pushed ? { branch: pushed } : {}) };
  }

  /** New commits to the same branch of the local remote (a fast-forward), and the reply a hosted publisher would post. */
  private async publishFollowUp(request: PublishRequest, followUp: FollowUpCheckout): Promise<PublishResult> {
    const pushed = followUpPushes(request, followUp);
    if (pushed) {
      await pushFollowUp(this.git, this.fs, request, followUp, undefined);
      this.logger.log(`Pushed ${request.commitsAhead} commit(s) to ${followUp.headBranch}`);
    }
    // One reference per job, as the GitHub publisher keeps one reply per job: a retry overwrites its record.
    const reply = `${followUp.pullRequest}#follow-up-reply/${request.jobId}`;
    const { body } = followUpReplyBody(request, followUp, pushed, GITHUB_BODY_LIMIT);
    await this.fs.writeAgentText(
      request.workDir,
      `${PUBLICATION_DIR}/follow-up-reply.json`,
      `${JSON.stringify({ kind: 'local-follow-up-reply', reference: reply, pullRequest: followUp.pullRequest, branch: followUp.headBranch, pushedCommits: pushed ? request.commitsAhead : 0, title: request.title, body }, null, 2)}\n`,
    );
    this.logger.log(`Recorded the reply on ${followUp.pullRequest}`);
    return { branch: followUp.headBranch, pullRequest: followUp.pullRequest, report: reply, title: request.title };
  }

  private async push(request: PublishRequest, branch: string): Promise<string> {
    const target = `worker/${request.workerId}/${branch}`;
    // To the clone URL the conductor gave, not the agent's "origin", and never with the agent's hooks or config.
    await pushFromScratch(this.git, this.fs, { repoDir: request.repoDir, url: request.repository.cloneUrl, ref: `refs/heads/${target}`, token: undefined });
    this.logger.log(`Pushed ${target}`);
    return target;
  }
}
