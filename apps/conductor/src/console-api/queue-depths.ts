import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '@agent-conductor/scheduling-domain';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

export const CONSOLE_SQS_CLIENT = Symbol('CONSOLE_SQS_CLIENT');

export interface QueueDepth {
  /** ApproximateNumberOfMessages: waiting to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, not yet deleted. */
  inFlight: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed: number;
}

export interface QueueDepths {
  /** null when SQS could not be asked (the reason is in `errors`). */
  intake: QueueDepth | null;
  /** null when there is no dead-letter queue, or SQS could not be asked. */
  dlq: QueueDepth | null;
  errors: string[];
}

const DEPTH_ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Queue depths through SQS GetQueueAttributes; the DLQ is SQS_DLQ_URL, else the one the intake's RedrivePolicy names. */
@Injectable()
export class QueueDepthReader {
  private readonly logger = new Logger(QueueDepthReader.name);
  /** The DLQ a RedrivePolicy names does not change while we run: resolved once, not on every overview poll. */
  private discoveredDlqUrl: string | undefined;

  constructor(
    @Inject(CONSOLE_SQS_CLIENT) private readonly sqs: SQSClient,
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'sqsQueueUrl' | 'sqsDlqUrl'>,
  ) {}

  async read(): Promise<QueueDepths> {
    const errors: string[] = [];
    let intake: QueueDepth | null = null;
    let dlqUrl = this.config.sqsDlqUrl ?? this.discoveredDlqUrl;
    try {
      const attributes = await this.attributes(this.config.sqsQueueUrl, [...DEPTH_ATTRIBUTES, 'RedrivePolicy']);
      intake = depthOf(attributes);
      dlqUrl ??= this.discoveredDlqUrl = await this.dlqUrlFrom(attributes['RedrivePolicy']);
    } catch (error) {
      errors.push(`intake queue: ${errorMessage(error)}`);
    }
    let dlq: QueueDepth | null = null;
    if (dlqUrl) {
      try {
        dlq = depthOf(await this.attributes(dlqUrl, [...DEPTH_ATTRIBUTES]));
      } catch (error) {
        errors.push(`dead-letter queue: ${errorMessage(error)}`);
      }
    }
    if (errors.length > 0) this.logger.warn(`queue depths unavailable: ${errors.join('; ')}`);
    return { intake, dlq, errors };
  }

  private async attributes(queueUrl: string, names: string[]): Promise<Record<string, string>> {
    const response = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names as GetQueueAttributesCommand['input']['AttributeNames'] }));
    return response.Attributes ?? {};
  }

  private async dlqUrlFrom(redrivePolicy: string | undefined): Promise<string | undefined> {
    if (!redrivePolicy) return undefined;
    const arn: unknown = (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
    // arn:aws:sqs:<region>:<account>:<name>
    const parts = typeof arn === 'string' ? arn.split(':') : [];
    const [account, name] = [parts[4], parts[5]];
    if (!account || !name) return undefined;
    const response = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
    return response.QueueUrl;
  }
}

function depthOf(attributes: Record<string, string>): QueueDepth {
  const count = (name: (typeof DEPTH_ATTRIBUTES)[number]): number => Number(attributes[name] ?? 0);
  return { visible: count('ApproximateNumberOfMessages'), inFlight: count('ApproximateNumberOfMessagesNotVisible'), delayed: count('ApproximateNumberOfMessagesDelayed') };
}
