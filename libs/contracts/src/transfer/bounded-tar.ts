import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { TransferError } from './transfer-error';

const BLOCK = 512;
/** A pax header or GNU long name is a few hundred bytes; anything larger is not one node-tar or our packer writes. */
const MAX_META_ENTRY_BYTES = 64 * 1024;
const META_TYPES = new Set(['x', 'g', 'L', 'K']);
const ZEROS = Buffer.alloc(64 * 1024);
/**
 * Tar writers pad an archive to their record size (10 KiB for GNU tar and bsdtar); a megabyte of zeros
 * after the end is no archive's padding, only work for the receiver.
 */
export const MAX_TAR_PADDING_BYTES = 1024 * 1024;

/** memcmp against a zero buffer, not a byte loop: a long zero tail is checked at memory speed. */
function allZero(bytes: Buffer): boolean {
  for (let offset = 0; offset < bytes.length; offset += ZEROS.length) {
    const slice = bytes.subarray(offset, offset + ZEROS.length);
    if (!slice.equals(ZEROS.subarray(0, slice.length))) return false;
  }
  return true;
}
/**
 * Small reads bound how much one read may expand: zlib turns a whole input chunk into output before it
 * looks at the stream again, and gzip reaches about 1000:1, so 8 KiB in is at most some 8 MiB out.
 */
const COMPRESSED_READ_BYTES = 8 * 1024;

/**
 * Walks the tar framing of a decompressed stream, header by header, without trusting node-tar:
 * it knows where the archive ends, so what follows the end-of-archive marker is checked here
 * (zeros only) and never reaches node-tar, whose parser re-copies a growing buffer for every
 * chunk it gets after the end (quadratic, and synchronous).
 */
class TarFraming {
  /** Bytes of the current header block gathered so far (a header may straddle chunks). */
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Body bytes (padding included) still to pass before the next header. */
  private bodyRemaining = 0;
  /** A pax header's body, collected to refuse a `size` record that would reframe the next entry. */
  private pax: Buffer[] | undefined;
  private paxBytes = 0;
  private paxRemaining = 0;
  private ended = false;
  private paddingBytes = 0;

  get sawEnd(): boolean {
    return this.ended;
  }

  /** The prefix of `chunk` that belongs to the archive; throws on a broken header or non-zero trailing data. */
  accept(chunk: Buffer): Buffer {
    let offset = 0;
    let archiveBytes = this.ended ? 0 : chunk.length;
    while (offset < chunk.length) {
      if (this.ended) {
        const tail = chunk.subarray(offset);
        if (!allZero(tail)) throw unsafe('the archive has data after its end-of-archive marker');
        this.paddingBytes += tail.length;
        if (this.paddingBytes > MAX_TAR_PADDING_BYTES) throw unsafe(`the archive has more than ${MAX_TAR_PADDING_BYTES} bytes of padding after its end`);
        return chunk.subarray(0, archiveBytes);
      }
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, chunk.length - offset);
        if (this.pax && this.paxRemaining > 0) {
          const paxTake = Math.min(this.paxRemaining, take);
          this.pax.push(chunk.subarray(offset, offset + paxTake));
          this.paxRemaining -= paxTake;
        }
        offset += take;
        this.bodyRemaining -= take;
        if (this.bodyRemaining === 0 && this.pax) this.checkPax();
        continue;
      }
      const take = Math.min(BLOCK - this.headerFill, chunk.length - offset);
      chunk.copy(this.header, this.headerFill, offset, offset + take);
      this.headerFill += take;
      offset += take;
      if (this.headerFill < BLOCK) continue;
      this.headerFill = 0;
      if (allZero(this.header)) {
        // The end-of-archive marker starts here; the rest of the stream must be zeros, and node-tar gets
        // this block (plus one more zero block) so it sees a properly ended archive.
        this.ended = true;
        archiveBytes = offset;
        continue;
      }
      this.startEntry(this.header);
    }
    return chunk.subarray(0, archiveBytes);
  }

  private startEntry(header: Buffer): void {
    if (!checksumMatches(header)) throw unsafe('the archive has a tar header with a bad checksum');
    const size = entrySize(header);
    const type = String.fromCharCode(header[156] ?? 0);
    this.bodyRemaining = Math.ceil(size / BLOCK) * BLOCK;
    if (META_TYPES.has(type) && size > MAX_META_ENTRY_BYTES) throw unsafe(`the archive has a ${size}-byte metadata entry`);
    if (type === 'x' || type === 'g') {
      this.pax = [];
      this.paxBytes = size;
      this.paxRemaining = size;
      if (size === 0) this.checkPax();
    }
  }

  private checkPax(): void {
    const records = Buffer.concat(this.pax ?? []).subarray(0, this.paxBytes).toString('utf8');
    this.pax = undefined;
    // node-tar would let a `size` record override the header's, so its framing and ours could part ways.
    if (/(^|\n)\d+ (GNU\.sparse\.)?(real)?size=/.test(records)) throw unsafe('the archive has a pax size record');
  }
}

function unsafe(message: string): TransferError {
  return new TransferError('UNSAFE_ENTRY', message);
}

function checksumMatches(header: Buffer): boolean {
  const field = header.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let index = 0; index < BLOCK; index += 1) {
    sum += index >= 148 && index < 156 ? 0x20 : (header[index] ?? 0);
  }
  return sum === parseInt(field, 8);
}

/** The size field: octal text, or GNU base-256 when the top bit of its first byte is set. */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  const first = field[0] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) throw unsafe('the archive has a tar header with a negative size');
    let size = 0;
    for (const byte of field.subarray(1)) {
      size = size * 256 + byte;
      if (!Number.isSafeInteger(size)) throw unsafe('the archive has a tar entry too large to represent');
    }
    return size;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw unsafe('the archive has a tar header with a malformed size');
  return parseInt(text, 8);
}

/**
 * The tar bytes of a tar.gz, decompressed here with the project's own count: past `maxTarBytes`
 * decompressed bytes it stops (TransferError 'TOO_LARGE') and reads no further. Yields the archive
 * up to and including its end-of-archive marker; a stream without that marker, or with anything but
 * zeros after it, is refused ('UNSAFE_ENTRY').
 */
export async function* boundedTarBytes(archivePath: string, maxTarBytes: number): AsyncGenerator<Buffer> {
  const source = createReadStream(archivePath, { highWaterMark: COMPRESSED_READ_BYTES });
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  const framing = new TarFraming();
  let decompressed = 0;
  let trailerSent = false;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      decompressed += chunk.length;
      if (decompressed > maxTarBytes) {
        throw new TransferError('TOO_LARGE', `the archive decompresses to more than ${maxTarBytes} bytes`);
      }
      const archive = framing.accept(chunk);
      if (archive.length > 0) yield archive;
      if (framing.sawEnd && !trailerSent) {
        // A second zero block completes the marker as tar readers expect it, whatever the stream held.
        trailerSent = true;
        yield Buffer.alloc(BLOCK);
      }
    }
  } catch (error) {
    if (error instanceof TransferError) throw error;
    throw unsafe(`the archive cannot be decompressed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  if (!framing.sawEnd) throw unsafe('the archive ends without an end-of-archive marker');
}
