import { Header } from 'tar';
import { gzipSync } from 'node:zlib';

const BLOCK = 512;
const MIB = 1024 * 1024;

export interface RawTarEntry {
  path: string;
  type: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  /** The body; leave it out and set `declaredSize` to write only the header (its body follows separately). */
  data?: string | Buffer;
  declaredSize?: number;
  linkpath?: string;
  mode?: number;
}

/** Two zero blocks: the tar end-of-archive marker. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** Tar headers (and padded bodies) written by hand, so nothing sanitises a hostile path, type or mode on the way in. */
export function rawTar(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    const block = Buffer.alloc(BLOCK);
    new Header({
      path: entry.path,
      type: entry.type,
      size: entry.declaredSize ?? data.length,
      mode: entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
    }).encode(block, 0);
    blocks.push(block);
    if (data.length > 0) {
      const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
      data.copy(padded);
      blocks.push(padded);
    }
  }
  return Buffer.concat(blocks);
}

/**
 * `mebibytes` MiB of `byte` as concatenated gzip members (gunzip reads them as one stream): a huge
 * decompressed size for about 1 KiB per MiB, built without holding it all in memory.
 */
export function gzipRepeated(byte: number, mebibytes: number): Buffer {
  const member = gzipSync(Buffer.alloc(MIB, byte), { level: 9 });
  return Buffer.concat(Array.from({ length: mebibytes }, () => member));
}

/** A small valid archive followed by `trailing` after its end-of-archive marker: the upload that froze node-tar. */
export function archiveWithTrailingData(trailing: Buffer): Buffer {
  return Buffer.concat([gzipSync(Buffer.concat([rawTar([{ path: 'TASK.md', type: 'File', data: 'fine\n' }]), END_OF_ARCHIVE])), trailing]);
}

/** One zero-filled file of `mebibytes` MiB (a sparse file, as tar stores it) in a small upload. */
export function zeroFilledArchive(mebibytes: number): Buffer {
  return Buffer.concat([
    gzipSync(rawTar([{ path: 'disk-filler.bin', type: 'File', declaredSize: mebibytes * MIB }])),
    gzipRepeated(0, mebibytes),
    gzipSync(END_OF_ARCHIVE),
  ]);
}
