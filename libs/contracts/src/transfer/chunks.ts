import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { TransferChunk } from '../generated/agentconductor/worker/v1/worker';
import { TransferError } from './transfer-error';

export const TRANSFER_CHUNK_BYTES = 32 * 1024;

/**
 * Streams a file as TransferChunk messages (index from 0, last chunk carries sha256 hex + totalSize).
 * An empty file yields one empty last chunk. Never reads the whole file into memory.
 */
export async function* readFileAsChunks(path: string, chunkBytes: number = TRANSFER_CHUNK_BYTES): AsyncGenerator<TransferChunk> {
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    let totalSize = 0;
    let index = 0;
    // One chunk of look-ahead: the receiver needs `last` on the final data chunk, not on an extra empty one.
    let pending = await readUpTo(handle, chunkBytes);
    for (;;) {
      const next = pending.length === 0 ? pending : await readUpTo(handle, chunkBytes);
      hash.update(pending);
      totalSize += pending.length;
      const last = next.length === 0;
      yield {
        index,
        data: pending,
        last,
        sha256: last ? hash.digest('hex') : '',
        totalSize: last ? totalSize : 0,
      };
      if (last) return;
      index += 1;
      pending = next;
    }
  } finally {
    await handle.close();
  }
}

async function readUpTo(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  // A single read may return less than asked for even before EOF.
  while (filled < size) {
    const { bytesRead } = await handle.read(buffer, filled, size - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

export interface ChunkReceiverOptions {
  maxBytes: number;
  expectedSha256?: string;
  expectedSize?: number;
}

/**
 * Writes chunks to destPath as they arrive; enforces order, maxBytes, and (on finish) the checksum/size
 * from the last chunk and, if given, the expected ones.
 */
export class ChunkReceiver {
  private handle: FileHandle | undefined;
  private readonly hash = createHash('sha256');
  private nextIndex = 0;
  private bytes = 0;
  private lastChunk: TransferChunk | undefined;
  private closed = false;

  constructor(
    private readonly destPath: string,
    private readonly options: ChunkReceiverOptions,
  ) {}

  async accept(chunk: TransferChunk): Promise<void> {
    if (this.closed) {
      throw new TransferError('OUT_OF_ORDER', `chunk ${chunk.index} arrived after the transfer was closed`);
    }
    if (this.lastChunk) {
      throw new TransferError('OUT_OF_ORDER', `chunk ${chunk.index} arrived after the last chunk (${this.lastChunk.index})`);
    }
    if (chunk.index !== this.nextIndex) {
      throw new TransferError('OUT_OF_ORDER', `expected chunk ${this.nextIndex}, got chunk ${chunk.index}`);
    }
    const data = chunk.data ?? Buffer.alloc(0);
    const newTotal = this.bytes + data.length;
    if (newTotal > this.options.maxBytes) {
      throw new TransferError('TOO_LARGE', `transfer exceeds the limit of ${this.options.maxBytes} bytes`);
    }
    if (this.options.expectedSize !== undefined && newTotal > this.options.expectedSize) {
      throw new TransferError('SIZE_MISMATCH', `transfer exceeds the expected size of ${this.options.expectedSize} bytes`);
    }
    if (!this.handle) {
      this.handle = await open(this.destPath, 'w', 0o600);
    }
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written);
      written += bytesWritten;
    }
    this.hash.update(data);
    this.bytes = newTotal;
    this.nextIndex += 1;
    if (chunk.last) {
      this.lastChunk = chunk;
    }
  }

  async finish(): Promise<{ bytes: number; sha256: string }> {
    if (!this.lastChunk) {
      throw new TransferError('INCOMPLETE', `transfer ended after ${this.nextIndex} chunk(s) without a last chunk`);
    }
    if (this.closed) {
      throw new TransferError('INCOMPLETE', 'transfer was already finished or aborted');
    }
    await this.close();
    const sha256 = this.hash.digest('hex');
    const announced = this.lastChunk;
    if (announced.totalSize !== this.bytes) {
      throw new TransferError('SIZE_MISMATCH', `received ${this.bytes} bytes but the last chunk announced ${announced.totalSize}`);
    }
    if (announced.sha256.toLowerCase() !== sha256) {
      throw new TransferError('CHECKSUM_MISMATCH', `sha256 ${sha256} does not match the announced ${announced.sha256}`);
    }
    if (this.options.expectedSize !== undefined && this.options.expectedSize !== this.bytes) {
      throw new TransferError('SIZE_MISMATCH', `received ${this.bytes} bytes, expected ${this.options.expectedSize}`);
    }
    if (this.options.expectedSha256 !== undefined && this.options.expectedSha256.toLowerCase() !== sha256) {
      throw new TransferError('CHECKSUM_MISMATCH', `sha256 ${sha256} does not match the expected ${this.options.expectedSha256}`);
    }
    return { bytes: this.bytes, sha256 };
  }

  async abort(): Promise<void> {
    await this.close();
    await rm(this.destPath, { force: true });
  }

  private async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await handle.close();
  }
}
