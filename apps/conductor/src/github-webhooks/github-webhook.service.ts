import { GithubWebhookDeliveryRepository } from '@agent-conductor/db';
import { errorMessage, gitHubWebhookEnvelope, GITHUB_WEBHOOK_EVENTS, isGitHubWebhookEvent } from '@agent-conductor/scheduling-domain';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { INTAKE_SQS } from '../intake/intake-sqs';
import { GitHubWebhookError } from './github-webhook-error';

/** The headers GitHub sends with every delivery, as received (any may be missing or repeated). */
export interface GitHubWebhookHeaders {
  event: string | string[] | undefined;
  deliveryId: string | string[] | undefined;
  signature: string | string[] | undefined;
}

export type GitHubWebhookAnswer =
  | { status: 'queued'; deliveryId: string; event: string; messageId: string }
  | { status: 'duplicate'; deliveryId: string; event: string }
  | { status: 'ignored'; deliveryId: string; event: string; reason: string };

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
// GitHub's delivery ids are GUIDs; anything else is not from GitHub, and the id is stored and logged.
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/**
 * GitHub webhooks onto the intake queue: verify the signature, remember the delivery id, queue an envelope the
 * scheduler classifies. Remembering comes before queueing, so a redelivery racing the first can never queue twice.
 */
@Injectable()
export class GitHubWebhookService implements OnModuleDestroy {
  private readonly logger = new Logger(GitHubWebhookService.name);

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'githubWebhookSecret' | 'sqsQueueUrl'>,
    @Inject(INTAKE_SQS) private readonly sqs: SQSClient,
    private readonly deliveries: GithubWebhookDeliveryRepository,
  ) {}

  onModuleDestroy(): void {
    this.sqs.destroy();
  }

  async receive(headers: GitHubWebhookHeaders, body: unknown): Promise<GitHubWebhookAnswer> {
    const secret = this.config.githubWebhookSecret;
    if (!secret) throw new GitHubWebhookError('DISABLED', 'GitHub webhooks are not configured (GITHUB_WEBHOOK_SECRET)');
    if (!Buffer.isBuffer(body)) throw new GitHubWebhookError('BAD_REQUEST', 'webhook body was not read as raw bytes');
    verifySignature(secret, body, single(headers.signature));

    const event = single(headers.event);
    const deliveryId = single(headers.deliveryId);
    if (event === undefined || !EVENT_NAME.test(event)) throw new GitHubWebhookError('BAD_REQUEST', 'X-GitHub-Event is missing or not an event name');
    if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) throw new GitHubWebhookError('BAD_REQUEST', 'X-GitHub-Delivery is missing or not a delivery id');
    if (!isGitHubWebhookEvent(event)) {
      const reason = `event ${event} is not handled (accepted: ${GITHUB_WEBHOOK_EVENTS.join(', ')})`;
      this.logger.log(`GitHub delivery ${deliveryId} ignored: ${reason}`);
      return { status: 'ignored', deliveryId, event, reason };
    }
    const payload = parsePayload(body);

    if (!(await this.deliveries.claim(deliveryId, event))) {
      this.logger.log(`GitHub delivery ${deliveryId} (${event}) was seen before; not queued again`);
      return { status: 'duplicate', deliveryId, event };
    }
    try {
      const sent = await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.config.sqsQueueUrl,
          MessageBody: JSON.stringify(gitHubWebhookEnvelope(deliveryId, event, payload)),
          MessageAttributes: {
            githubEvent: { DataType: 'String', StringValue: event },
            githubDelivery: { DataType: 'String', StringValue: deliveryId },
          },
        }),
      );
      this.logger.log(`GitHub delivery ${deliveryId} (${event}) queued as message ${sent.MessageId ?? '?'}`);
      return { status: 'queued', deliveryId, event, messageId: sent.MessageId ?? '' };
    } catch (error) {
      // Forget it, so the redelivery GitHub (or an operator) sends is taken as new rather than as a replay.
      await this.deliveries.release(deliveryId);
      this.logger.warn(`GitHub delivery ${deliveryId} (${event}) could not be queued: ${errorMessage(error)}`);
      throw new GitHubWebhookError('QUEUE_UNAVAILABLE', 'the intake queue is unavailable; redeliver later');
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

/** Compares the digests in constant time; the refusal never says how close a forgery came. */
function verifySignature(secret: string, body: Buffer, header: string | undefined): void {
  const match = header === undefined ? null : SIGNATURE.exec(header);
  if (!match?.[1]) throw new GitHubWebhookError('BAD_SIGNATURE', 'X-Hub-Signature-256 is missing or malformed');
  const expected = createHmac('sha256', secret).update(body).digest();
  if (!timingSafeEqual(expected, Buffer.from(match[1], 'hex'))) {
    throw new GitHubWebhookError('BAD_SIGNATURE', 'X-Hub-Signature-256 does not match the body');
  }
}

function parsePayload(body: Buffer): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GitHubWebhookError('BAD_REQUEST', 'webhook body is not JSON (set the content type to application/json)');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new GitHubWebhookError('BAD_REQUEST', 'webhook body is not a JSON object');
  }
  return payload as Record<string, unknown>;
}
