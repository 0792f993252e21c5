import { HttpStatus } from '@nestjs/common';

export type GitHubWebhookErrorCode = 'DISABLED' | 'BAD_SIGNATURE' | 'BAD_REQUEST' | 'TOO_LARGE' | 'QUEUE_UNAVAILABLE';

/** A webhook delivery refused; `code` decides the HTTP status GitHub sees (and shows in its delivery log). */
export class GitHubWebhookError extends Error {
  constructor(
    readonly code: GitHubWebhookErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubWebhookError';
  }
}

/** 404 while off, so an unconfigured conductor does not even admit to the path. 503 asks for a redelivery. */
export const GITHUB_WEBHOOK_HTTP_STATUS: Record<GitHubWebhookErrorCode, HttpStatus> = {
  DISABLED: HttpStatus.NOT_FOUND,
  BAD_SIGNATURE: HttpStatus.UNAUTHORIZED,
  BAD_REQUEST: HttpStatus.BAD_REQUEST,
  TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  QUEUE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
};
