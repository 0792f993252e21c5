import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, type Stats } from 'node:fs';
import { mkdir, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { boundedTarBytes } from './bounded-tar';
import { TransferError } from './transfer-error';

export interface PackOptions {
  /** Called with each path relative to the packed directory ('/'-separated); true leaves it out (and, for a directory, everything below). */
  exclude?: (relativePath: string) => boolean;
}

export interface ExtractOptions {
  maxEntries?: number;
  /** The sum of the entries' sizes. */
  maxBytes?: number;
  /** The whole decompressed tar stream: headers, padding and trailing zeros included. */
  maxTarBytes?: number;
  /**
   * Extracts only this top-level directory's entries (the limits count only them); the rest is neither written nor
   * checked, though it is still read through (maxTarBytes bounds it).
   */
  onlyUnder?: string;
}

export const DEFAULT_EXTRACT_MAX_ENTRIES = 100_000;
export const DEFAULT_EXTRACT_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * Disables tar's hard-link detection: a file with several links is packed as a plain file every time,
 * because the receiving side rejects link entries.
 */
class NoHardLinkCache extends Map<`${number}:${number}`, string> {
  override set(): this {
    return this;
  }
}

/**
 * tar.gz of a directory's contents (relative paths), streamed to archivePath.
 * Only regular files and directories are packed: symlinks, sockets and devices are skipped because
 * extractArchiveSafely would reject them anyway.
 */
export async function packDirectory(dir: string, archivePath: string, options: PackOptions = {}): Promise<{ bytes: number; sha256: string }> {
  const exclude = options.exclude ?? (() => false);
  const top = (await readdir(dir)).sort();
  const filter = (path: string, stat: Stats | tar.ReadEntry): boolean => {
    const relativePath = path.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!('isFile' in stat) || (!stat.isFile() && !stat.isDirectory())) return false;
    return !exclude(relativePath);
  };
  const packOptions = {
    gzip: true,
    cwd: dir,
    portable: true,
    filter,
    linkCache: new NoHardLinkCache(),
  };
  // tar.c refuses an empty file list, and node-tar's strict reader refuses an archive without entries,
  // so an empty directory is packed as its own "./" entry.
  await tar.c({ ...packOptions, file: archivePath }, top.length === 0 ? ['.'] : top);
  return hashFile(archivePath);
}

/**
 * tar.gz of one top-level directory of `dir`, its entries keeping the `subdir/` prefix, streamed to archivePath.
 * The archive always holds the `./` entry, so it stays readable by node-tar's strict reader when `subdir` is absent.
 * Like packDirectory, only regular files and directories are packed.
 */
export async function packSubdirectory(dir: string, subdir: string, archivePath: string): Promise<{ bytes: number; sha256: string }> {
  const top = subdir.replace(/^\.\//, '').replace(/\/+$/, '');
  if (top === '' || top.includes('/') || top === '.' || top === '..') throw new Error(`not a top-level directory name: ${JSON.stringify(subdir)}`);
  const filter = (path: string, stat: Stats | tar.ReadEntry): boolean => {
    const relativePath = path.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!('isFile' in stat) || (!stat.isFile() && !stat.isDirectory())) return false;
    return relativePath === '.' || relativePath === top || relativePath.startsWith(`${top}/`);
  };
  await tar.c({ gzip: true, cwd: dir, portable: true, filter, linkCache: new NoHardLinkCache(), file: archivePath }, ['.']);
  return hashFile(archivePath);
}

export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const ALLOWED_TYPES = new Set<string>(['File', 'OldFile', 'ContiguousFile', 'Directory']);

/** Why an entry may not be extracted, or undefined when it is a plain file or directory inside the destination. */
function unsafeReason(entry: tar.ReadEntry, destDir: string): string | undefined {
  const path = entry.path;
  if (!ALLOWED_TYPES.has(entry.type)) {
    return `entry "${path}" has type ${entry.type}; only files and directories are allowed`;
  }
  if (path.length === 0) return 'entry with an empty path';
  if (path.includes('\0')) return `entry "${path}" contains a NUL byte`;
  if (path.includes('\\')) return `entry "${path}" contains a backslash`;
  if (path.startsWith('/') || isAbsolute(path) || /^[a-zA-Z]:/.test(path)) {
    return `entry "${path}" has an absolute path`;
  }
  if (path.split('/').some((segment) => segment === '..')) {
    return `entry "${path}" contains a ".." segment`;
  }
  const target = resolve(destDir, path);
  const rel = relative(destDir, target);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    return `entry "${path}" resolves outside the destination`;
  }
  if (entry.linkpath) return `entry "${path}" carries a link target`;
  return undefined;
}

/**
 * Decompressed bytes allowed beyond the entries' contents: a header or two per entry, padding, and the
 * zero blocks that end an archive.
 */
function defaultMaxTarBytes(maxBytes: number, maxEntries: number): number {
  return maxBytes + maxEntries * 3 * 512 + 1024 * 1024;
}

/** Extracted files keep their permission bits but never setuid, setgid or sticky, and stay usable by their owner. */
function safeMode(entry: tar.ReadEntry): number {
  const ownerBits = entry.type === 'Directory' ? 0o700 : 0o600;
  return ((entry.mode ?? 0) & 0o777) | ownerBits;
}

/**
 * Extracts a tar.gz into destDir, rejecting (TransferError 'UNSAFE_ENTRY', nothing written outside destDir)
 * absolute paths, `..` segments, symlinks/hardlinks, device files/fifos, more than maxEntries / maxBytes total,
 * any non-zero byte after the end-of-archive marker, and (TransferError 'TOO_LARGE') more than maxTarBytes
 * decompressed bytes, counted while gunzipping (boundedTarBytes), not by node-tar.
 *
 * Every header is inspected in a listing pass before anything is written, so a bad entry anywhere in the
 * archive means nothing at all is extracted. The extraction pass repeats the checks as a second line of defence.
 * Modes are masked to 0o777. The work is synchronous in stretches; a server runs it off its event loop.
 */
export async function extractArchiveSafely(
  archivePath: string,
  destDir: string,
  options: ExtractOptions = {},
): Promise<{ entries: number; bytes: number }> {
  const maxEntries = options.maxEntries ?? DEFAULT_EXTRACT_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_EXTRACT_MAX_BYTES;
  const maxTarBytes = options.maxTarBytes ?? defaultMaxTarBytes(maxBytes, maxEntries);
  await mkdir(destDir, { recursive: true, mode: 0o700 });
  const root = await realpath(destDir);

  const prefix = options.onlyUnder ? `${options.onlyUnder.replace(/^\.\//, '').replace(/\/+$/, '')}/` : undefined;
  const wanted = (path: string): boolean => prefix === undefined || `${path.replace(/^\.\//, '')}/`.startsWith(prefix);

  const inspect = (): {
    check: (entry: tar.ReadEntry) => boolean;
    problem: () => string | undefined;
    totals: () => { entries: number; bytes: number };
  } => {
    let entries = 0;
    let bytes = 0;
    let firstProblem: string | undefined;
    return {
      check: (entry) => {
        if (firstProblem || !wanted(entry.path)) return false;
        entries += 1;
        bytes += entry.size;
        firstProblem =
          unsafeReason(entry, root) ??
          (entries > maxEntries ? `archive has more than ${maxEntries} entries` : undefined) ??
          (bytes > maxBytes ? `archive expands to more than ${maxBytes} bytes` : undefined);
        return firstProblem === undefined;
      },
      problem: () => firstProblem,
      totals: () => ({ entries, bytes }),
    };
  };

  const listing = inspect();
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      listing.check(entry);
      entry.resume();
    },
  });
  await feedTar(archivePath, maxTarBytes, parser, () => listing.problem() !== undefined, 'archive cannot be read');
  const listed = listing.problem();
  if (listed) throw new TransferError('UNSAFE_ENTRY', listed);

  const extraction = inspect();
  const unpack = new tar.Unpack({
    cwd: root,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (_path, entry) => {
      if (!('header' in entry)) return false;
      if (!extraction.check(entry)) return false;
      entry.mode = safeMode(entry);
      return true;
    },
  });
  await feedTar(archivePath, maxTarBytes, unpack, () => extraction.problem() !== undefined, 'extraction failed');
  const extracted = extraction.problem();
  if (extracted) throw new TransferError('UNSAFE_ENTRY', extracted);
  return extraction.totals();
}

/**
 * Writes the bounded tar stream into a node-tar Parser or Unpack, honouring its backpressure, and waits
 * for it to finish. Once `stop()` holds (an entry was refused), it reads and decompresses nothing more:
 * whatever follows a rejected entry (a decompression bomb, say) is never expanded, and the caller asks
 * its inspector why.
 */
async function feedTar(archivePath: string, maxTarBytes: number, sink: tar.Parser, stop: () => boolean, failure: string): Promise<void> {
  let failed: { error: unknown } | undefined;
  const finished = new Promise<void>((resolvePromise, reject) => {
    sink.on('error', (error: unknown) => {
      failed = { error };
      reject(error);
    });
    sink.on('finish', () => resolvePromise());
  });
  // Only awaited below; a failure while feeding is thrown from the loop instead.
  finished.catch(() => undefined);
  const wrap = (error: unknown): unknown =>
    error instanceof TransferError ? error : new TransferError('UNSAFE_ENTRY', `${failure}: ${errorMessage(error)}`);
  try {
    for await (const chunk of boundedTarBytes(archivePath, maxTarBytes)) {
      if (failed) throw failed.error;
      if (stop()) return;
      if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), finished]);
    }
    if (failed) throw failed.error;
    if (stop()) return;
    sink.end();
    await finished;
  } catch (error) {
    if (stop()) return;
    throw wrap(error);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface ArchiveEntryRequest {
  /** Paths relative to the archive root ('/'-separated; a leading `./` is ignored). */
  paths: readonly string[];
  /** Per entry: longer files are cut here and marked truncated. */
  maxBytes: number;
  /**
   * When every wanted path is in this directory and the archive was packed in sorted order (packDirectory), reading
   * stops at the first entry after it instead of decompressing the rest (e.g. a whole repository).
   */
  withinDir?: string;
}

export interface ArchiveEntryText {
  text: string;
  truncated: boolean;
}

const entryPathOf = (path: string): string => path.replace(/^\.\//, '');

/**
 * Files of a tar.gz stream, read without extracting anything to disk: the first `maxBytes` of each wanted entry.
 * Entries the archive lacks are absent from the result. The stream is consumed or destroyed.
 */
export async function readArchiveEntries(archive: Readable, request: ArchiveEntryRequest): Promise<Map<string, ArchiveEntryText>> {
  const wanted = new Set(request.paths.map(entryPathOf));
  const collected = new Map<string, { chunks: Buffer[]; bytes: number; truncated: boolean }>();
  const dir = request.withinDir ? `${entryPathOf(request.withinDir).replace(/\/+$/, '')}/` : undefined;
  let insideDir = false;
  await new Promise<void>((resolvePromise, reject) => {
    let settled = false;
    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolvePromise();
    };
    const parser = new tar.Parser({
      // Lenient parsing would read garbage as an empty archive: the caller would say "no report" instead of failing.
      strict: true,
      onReadEntry: (entry) => {
        const path = entryPathOf(entry.path);
        if (dir) {
          if (path.startsWith(dir)) insideDir = true;
          else if (insideDir) {
            // Sorted packing: nothing wanted can follow. Stop decompressing.
            archive.unpipe(parser);
            archive.destroy();
            finish();
            return entry.resume();
          }
        }
        const isFile = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
        if (!isFile || !wanted.has(path)) return entry.resume();
        const into = { chunks: [] as Buffer[], bytes: 0, truncated: false };
        collected.set(path, into);
        entry.on('data', (chunk: Buffer) => {
          const room = request.maxBytes - into.bytes;
          if (chunk.length > room) into.truncated = true;
          if (room <= 0) return;
          const kept = chunk.subarray(0, room);
          into.chunks.push(kept);
          into.bytes += kept.length;
        });
      },
    });
    parser.on('end', () => finish());
    parser.on('error', finish);
    // Archives reach the store only after extraction proved them sound: a failure here is the store's, not bad input.
    archive.on('error', finish);
    archive.pipe(parser);
  });
  const texts = new Map<string, ArchiveEntryText>();
  for (const [path, into] of collected) texts.set(path, { text: Buffer.concat(into.chunks).toString('utf8'), truncated: into.truncated });
  return texts;
}
