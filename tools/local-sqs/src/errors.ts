/**
 * An SQS error as the JSON protocol reports it. `type` is the Smithy shape name (`__type` in the body);
 * `queryCode` is the legacy Query-API code that @aws-sdk/client-sqs (query-compatible mode) reads first
 * from the `x-amzn-query-error` header to pick the typed exception class.
 */
export class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
    readonly fault: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = type;
  }
}

export const sqsErrors = {
  queueDoesNotExist: (): SqsError =>
    new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.'),
  queueNameExists: (name: string): SqsError =>
    new SqsError('QueueNameExists', 'QueueAlreadyExists', `A queue named ${name} already exists with different attributes.`),
  invalidParameterValue: (message: string): SqsError => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message),
  missingParameter: (name: string): SqsError =>
    new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`),
  invalidAttributeName: (name: string): SqsError =>
    new SqsError('InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`),
  invalidAttributeValue: (message: string): SqsError => new SqsError('InvalidAttributeValue', 'InvalidAttributeValue', message),
  invalidMessageContents: (message: string): SqsError => new SqsError('InvalidMessageContents', 'InvalidMessageContents', message),
  receiptHandleIsInvalid: (handle: string): SqsError =>
    new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`),
  messageNotInflight: (): SqsError =>
    new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message referred to is not in flight.'),
  emptyBatchRequest: (): SqsError =>
    new SqsError('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', 'There should be at least one entry in the request.'),
  tooManyEntries: (): SqsError =>
    new SqsError(
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      'Maximum number of entries per request are 10.',
    ),
  batchEntryIdsNotDistinct: (): SqsError =>
    new SqsError('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 'Two or more batch entries have the same Id.'),
  invalidBatchEntryId: (): SqsError =>
    new SqsError(
      'InvalidBatchEntryId',
      'AWS.SimpleQueueService.InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    ),
  unsupportedOperation: (message: string): SqsError =>
    new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', message),
};
