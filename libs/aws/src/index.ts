export { createSqsClient, type SqsClientOptions } from './sqs/sqs-client';
export { SqsIntakeConsumer, type IntakeLogger, type IntakeMessage, type SqsIntakeOptions } from './sqs/sqs-intake-consumer';
