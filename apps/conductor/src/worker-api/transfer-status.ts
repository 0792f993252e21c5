import { TransferError } from '@agent-conductor/contracts';
import { status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { rpcError } from './worker-auth.service';

const STATUS_BY_CODE: Record<TransferError['code'], status> = {
  OUT_OF_ORDER: status.INVALID_ARGUMENT,
  UNSAFE_ENTRY: status.INVALID_ARGUMENT,
  SIZE_MISMATCH: status.INVALID_ARGUMENT,
  INCOMPLETE: status.INVALID_ARGUMENT,
  TOO_LARGE: status.RESOURCE_EXHAUSTED,
  CHECKSUM_MISMATCH: status.DATA_LOSS,
};

/** TransferErrors become the status the protocol promises; RpcExceptions pass; anything else is INTERNAL. */
export function toRpcException(error: unknown): RpcException {
  if (error instanceof RpcException) return error;
  if (error instanceof TransferError) return rpcError(STATUS_BY_CODE[error.code], error.message);
  // The worker learns nothing about the conductor's internals; the log has the cause.
  return rpcError(status.INTERNAL, 'internal error');
}

/** The status code and message an RpcException carries to the client. */
export function describeRpc(exception: RpcException): { code: number; message: string } {
  const error = exception.getError();
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return { code: Number(error.code), message: String(error.message) };
  }
  return { code: status.UNKNOWN, message: String(error) };
}
