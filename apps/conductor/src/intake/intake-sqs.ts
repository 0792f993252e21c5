import { createSqsClient } from '@agent-conductor/aws';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FactoryProvider } from '@nestjs/common';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

/** The SQS client the intake receives, deletes and renews visibility with. */
export const INTAKE_SQS = Symbol('INTAKE_SQS');

export const intakeSqsProvider: FactoryProvider<SQSClient> = {
  provide: INTAKE_SQS,
  useFactory: (config: Pick<ConductorConfig, 'awsRegion' | 'sqsEndpoint'>) =>
    createSqsClient({ region: config.awsRegion, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) }),
  inject: [CONDUCTOR_CONFIG],
};
