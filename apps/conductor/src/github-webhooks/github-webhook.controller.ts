import { Controller, HttpCode, HttpException, HttpStatus, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsolePublic } from '../console-auth/console-auth.guard';
import type { RequestWithRawBody } from './github-webhook-body';
import { GITHUB_WEBHOOK_HTTP_STATUS, GitHubWebhookError } from './github-webhook-error';
import { GitHubWebhookService, type GitHubWebhookAnswer } from './github-webhook.service';

// GitHub cannot log in to the console; the signature is its authentication.
@ConsolePublic()
@ApiExcludeController()
@Controller('webhooks')
export class GitHubWebhookController {
  constructor(private readonly webhooks: GitHubWebhookService) {}

  /** 202 for queued, replayed and ignored deliveries alike: GitHub needs no more than "received". */
  @Post('github')
  @HttpCode(HttpStatus.ACCEPTED)
  receive(@Req() request: RequestWithRawBody): Promise<GitHubWebhookAnswer> {
    const { headers } = request;
    return this.webhooks
      .receive({ event: headers['x-github-event'], deliveryId: headers['x-github-delivery'], signature: headers['x-hub-signature-256'] }, request.body)
      .catch((error: unknown) => {
        throw error instanceof GitHubWebhookError ? new HttpException(error.message, GITHUB_WEBHOOK_HTTP_STATUS[error.code]) : error;
      });
  }
}
