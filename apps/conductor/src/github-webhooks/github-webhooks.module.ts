import { Module } from '@nestjs/common';
import { intakeSqsProvider } from '../intake/intake-sqs';
import { GitHubWebhookController } from './github-webhook.controller';
import { GitHubWebhookService } from './github-webhook.service';

/** POST /webhooks/github onto the intake queue (docs/github-webhooks.md); answers 404 without GITHUB_WEBHOOK_SECRET. */
@Module({
  controllers: [GitHubWebhookController],
  providers: [intakeSqsProvider, GitHubWebhookService],
})
export class GitHubWebhooksModule {}
