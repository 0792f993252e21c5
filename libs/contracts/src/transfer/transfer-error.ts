export type TransferErrorCode =
  | 'OUT_OF_ORDER'
  | 'TOO_LARGE'
  | 'CHECKSUM_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'INCOMPLETE'
  | 'UNSAFE_ENTRY';

/** A transfer or archive was rejected; `code` lets each side map it to its gRPC status. */
export class TransferError extends Error {
  constructor(
    readonly code: TransferErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TransferError';
  }
}
