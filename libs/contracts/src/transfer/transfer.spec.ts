import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import type { TransferChunk } from '../generated/agentconductor/worker/v1/worker';
import { ChunkReceiver, extractArchiveSafely, packDirectory, packSubdirectory, readFileAsChunks, TRANSFER_CHUNK_BYTES, TransferError } from './index';

async function collect(path: string, chunkBytes?: number): Promise<TransferChunk[]> {
  const chunks: TransferChunk[] = [];
  for await (const chunk of readFileAsChunks(path, chunkBytes)) chunks.push(chunk);
  return chunks;
}

async function expectTransferError(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(TransferError);
  await promise.catch((error: unknown) => {
    expect((error as TransferError).code).toBe(code);
  });
}

describe('transfer codec', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'transfer-spec-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a directory: pack → chunks → receiver → extract', async () => {
    const source = join(dir, 'source');
    await mkdir(join(source, 'nested', 'deeper'), { recursive: true });
    const big = randomBytes(300 * 1024);
    await writeFile(join(source, 'TASK.md'), '# ABC-1: do it\n');
    await writeFile(join(source, 'nested', 'deeper', 'big.bin'), big);
    await writeFile(join(source, 'skip.log'), 'excluded');
    const archive = join(dir, 'out.tar.gz');
    const packed = await packDirectory(source, archive, { exclude: (path) => path.endsWith('.log') });
    expect(packed.bytes).toBeGreaterThan(100 * 1024);
    expect(packed.sha256).toBe(createHash('sha256').update(await readFile(archive)).digest('hex'));

    const chunks = await collect(archive);
    expect(chunks.length).toBe(Math.ceil(packed.bytes / TRANSFER_CHUNK_BYTES));
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    expect(chunks.slice(0, -1).every((c) => !c.last && c.data.length === TRANSFER_CHUNK_BYTES && c.sha256 === '')).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last?.last).toBe(true);
    expect(last?.sha256).toBe(packed.sha256);
    expect(last?.totalSize).toBe(packed.bytes);

    const received = join(dir, 'received.tar.gz');
    const receiver = new ChunkReceiver(received, { maxBytes: 10 * 1024 * 1024, expectedSha256: packed.sha256, expectedSize: packed.bytes });
    for (const chunk of chunks) await receiver.accept(chunk);
    expect(await receiver.finish()).toEqual(packed);

    const dest = join(dir, 'dest');
    const result = await extractArchiveSafely(received, dest);
    expect(result.bytes).toBe(big.length + '# ABC-1: do it\n'.length);
    expect(await readFile(join(dest, 'TASK.md'), 'utf8')).toBe('# ABC-1: do it\n');
    expect((await readFile(join(dest, 'nested', 'deeper', 'big.bin'))).equals(big)).toBe(true);
    expect(existsSync(join(dest, 'skip.log'))).toBe(false);
  });

  it('packs hard-linked files as plain files and leaves symlinks out, so its own archives extract safely', async () => {
    const source = join(dir, 'links');
    await mkdir(source);
    await writeFile(join(source, 'a.txt'), 'same inode');
    await link(join(source, 'a.txt'), join(source, 'b.txt'));
    await symlink('/etc/passwd', join(source, 'passwd'));
    const archive = join(dir, 'links.tar.gz');
    await packDirectory(source, archive);
    const dest = join(dir, 'links-out');
    expect(await extractArchiveSafely(archive, dest)).toEqual({ entries: 2, bytes: 20 });
    expect(await readFile(join(dest, 'b.txt'), 'utf8')).toBe('same inode');
    expect((await readdir(dest)).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('packs an empty directory into a valid empty archive', async () => {
    const source = join(dir, 'empty-dir');
    await mkdir(source);
    const archive = join(dir, 'empty.tar.gz');
    await packDirectory(source, archive);
    expect(await extractArchiveSafely(archive, join(dir, 'empty-out'))).toEqual({ entries: 1, bytes: 0 });
    expect(await readdir(join(dir, 'empty-out'))).toEqual([]);
  });

  it('packs one top-level directory alone, keeping its prefix and leaving links out; a valid archive when it is absent', async () => {
    const source = join(dir, 'results');
    await mkdir(join(source, 'agent-session', 'sessions'), { recursive: true });
    await writeFile(join(source, 'agent-session', 'thread.json'), '{"threadId":"t"}');
    await writeFile(join(source, 'agent-session', 'sessions', 'rollout.jsonl'), 'line\n');
    await symlink('/etc/passwd', join(source, 'agent-session', 'passwd'));
    await mkdir(join(source, 'agent-sessions-not'));
    await writeFile(join(source, 'agent-sessions-not', 'x'), 'no');
    await writeFile(join(source, 'README.md'), 'no');
    const archive = join(dir, 'session.tar.gz');
    await packSubdirectory(source, 'agent-session', archive);
    const dest = join(dir, 'session-out');
    // ./, agent-session/, agent-session/sessions/ and two files.
    expect(await extractArchiveSafely(archive, dest)).toEqual({ entries: 5, bytes: 21 });
    expect(await readdir(dest)).toEqual(['agent-session']);
    expect((await readdir(join(dest, 'agent-session'), { recursive: true })).sort()).toEqual(['sessions', 'sessions/rollout.jsonl', 'thread.json']);

    const none = join(dir, 'none.tar.gz');
    await rm(join(source, 'agent-session'), { recursive: true });
    await packSubdirectory(source, 'agent-session', none);
    expect(await extractArchiveSafely(none, join(dir, 'none-out'))).toEqual({ entries: 1, bytes: 0 });
    expect(await readdir(join(dir, 'none-out'))).toEqual([]);
    await expect(packSubdirectory(source, '../up', none)).rejects.toThrow(/not a top-level directory/);
  });

  it('streams an empty file as a single empty last chunk', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    const chunks = await collect(empty);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({ index: 0, last: true, totalSize: 0, sha256: createHash('sha256').digest('hex') });
    const receiver = new ChunkReceiver(join(dir, 'copy'), { maxBytes: 10 });
    await receiver.accept(chunks[0] as TransferChunk);
    expect((await receiver.finish()).bytes).toBe(0);
    expect(existsSync(join(dir, 'copy'))).toBe(true);
  });

  describe('ChunkReceiver rejects', () => {
    let chunks: TransferChunk[];
    let dest: string;

    beforeEach(async () => {
      const file = join(dir, 'file.bin');
      await writeFile(file, randomBytes(10 * 1024));
      chunks = await collect(file, 1024);
      dest = join(dir, 'dest.bin');
    });

    const at = (i: number): TransferChunk => {
      const chunk = chunks[i];
      if (!chunk) throw new Error(`no chunk ${i}`);
      return chunk;
    };

    it('out-of-order chunks', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20 });
      await receiver.accept(at(0));
      await expectTransferError(receiver.accept(at(2)), 'OUT_OF_ORDER');
      await receiver.abort();
      expect(existsSync(dest)).toBe(false);
    });

    it('duplicate chunks', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20 });
      await receiver.accept(at(0));
      await receiver.accept(at(1));
      await expectTransferError(receiver.accept(at(1)), 'OUT_OF_ORDER');
    });

    it('a chunk after the last one', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20 });
      for (const chunk of chunks) await receiver.accept(chunk);
      await expectTransferError(receiver.accept({ ...at(0), index: chunks.length }), 'OUT_OF_ORDER');
    });

    it('more than maxBytes', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 5 * 1024 });
      for (let i = 0; i < 5; i++) await receiver.accept(at(i));
      await expectTransferError(receiver.accept(at(5)), 'TOO_LARGE');
    });

    it('a checksum that does not match the last chunk', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20 });
      const tampered = chunks.map((c, i) => (i === 3 ? { ...c, data: Buffer.alloc(c.data.length, 7) } : c));
      for (const chunk of tampered) await receiver.accept(chunk);
      await expectTransferError(receiver.finish(), 'CHECKSUM_MISMATCH');
    });

    it('a checksum that does not match the expected one', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20, expectedSha256: 'ab'.repeat(32) });
      for (const chunk of chunks) await receiver.accept(chunk);
      await expectTransferError(receiver.finish(), 'CHECKSUM_MISMATCH');
    });

    it('a size that does not match the expected one', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20, expectedSize: 10 * 1024 + 1 });
      for (const chunk of chunks) await receiver.accept(chunk);
      await expectTransferError(receiver.finish(), 'SIZE_MISMATCH');
    });

    it('a transfer without a last chunk', async () => {
      const receiver = new ChunkReceiver(dest, { maxBytes: 1 << 20 });
      for (const chunk of chunks.slice(0, -1)) await receiver.accept(chunk);
      await expectTransferError(receiver.finish(), 'INCOMPLETE');
      await receiver.abort();
      expect(existsSync(dest)).toBe(false);
    });
  });
});

interface RawEntry {
  path: string;
  type: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice';
  data?: string;
  linkpath?: string;
  mode?: number;
}

/** Writes tar headers by hand so that nothing sanitises the hostile paths on the way in. */
function rawTarGz(entries: RawEntry[], trailer: Buffer = Buffer.alloc(0)): Buffer {
  return gzipSync(Buffer.concat([rawTarEntries(entries), trailer, Buffer.alloc(1024)]));
}

function rawTarEntries(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    const header = new Header({
      path: entry.path,
      type: entry.type,
      size: data.length,
      mode: entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      linkpath: entry.linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (data.length > 0) {
      const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
      data.copy(padded);
      blocks.push(padded);
    }
  }
  return Buffer.concat(blocks);
}

describe('extractArchiveSafely', () => {
  let dir: string;
  let dest: string;
  let outsideTarget: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'extract-spec-'));
    dest = join(dir, 'a', 'dest');
    outsideTarget = join(dir, 'a', 'evil');
    await mkdir(dest, { recursive: true });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const hostile: Array<[string, RawEntry[]]> = [
    ['a "../" path', [{ path: '../evil', type: 'File', data: 'pwned' }]],
    ['a nested "../" path', [{ path: 'ok/../../evil', type: 'File', data: 'pwned' }]],
    ['an absolute path', [{ path: '/tmp/agent-conductor-abs-evil', type: 'File', data: 'pwned' }]],
    ['a symlink', [{ path: 'evil', type: 'SymbolicLink', linkpath: '../evil' }]],
    ['a hardlink', [{ path: 'evil', type: 'Link', linkpath: '../evil' }]],
    ['a fifo', [{ path: 'evil', type: 'FIFO' }]],
    ['a character device', [{ path: 'evil', type: 'CharacterDevice' }]],
  ];

  it.each(hostile)('rejects %s and writes nothing', async (_name, entries) => {
    const archive = join(dir, 'hostile.tar.gz');
    // A harmless first entry proves that the whole archive is refused, not only the bad entry.
    await writeFile(archive, rawTarGz([{ path: 'TASK.md', type: 'File', data: 'fine' }, ...entries]));
    await expectTransferError(extractArchiveSafely(archive, dest), 'UNSAFE_ENTRY');
    expect(await readdir(dest)).toEqual([]);
    expect(existsSync(outsideTarget)).toBe(false);
    expect(existsSync('/tmp/agent-conductor-abs-evil')).toBe(false);
  });

  it('stops reading at the first unsafe entry: what follows is never decompressed', async () => {
    const archive = join(dir, 'stop.tar.gz');
    // Past the bad entry: a megabyte entry, then a header block no tar reader accepts. A listing that read on
    // would decompress the megabyte and fail on the garbage, and report that instead of the entry.
    const entries: RawEntry[] = [
      { path: 'TASK.md', type: 'File', data: 'fine' },
      { path: '../evil', type: 'File', data: 'pwned' },
      { path: 'later.bin', type: 'File', data: '\0'.repeat(1024 * 1024) },
    ];
    await writeFile(archive, rawTarGz(entries, Buffer.alloc(512, 0x41)));
    const error = await extractArchiveSafely(archive, dest).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TransferError);
    expect((error as TransferError).message).toBe('entry "../evil" contains a ".." segment');
    expect(await readdir(dest)).toEqual([]);
  });

  it('rejects more entries than maxEntries', async () => {
    const archive = join(dir, 'many.tar.gz');
    await writeFile(archive, rawTarGz([1, 2, 3].map((n) => ({ path: `f${n}`, type: 'File' as const, data: 'x' }))));
    await expectTransferError(extractArchiveSafely(archive, dest, { maxEntries: 2 }), 'UNSAFE_ENTRY');
    expect(await readdir(dest)).toEqual([]);
    expect(await extractArchiveSafely(archive, dest, { maxEntries: 3 })).toEqual({ entries: 3, bytes: 3 });
  });

  it('extracts only the onlyUnder directory, and counts only its entries against the limits', async () => {
    const archive = join(dir, 'session.tar.gz');
    const entries: RawEntry[] = [
      { path: 'agent-meta/usage.json', type: 'File', data: '{}' },
      { path: 'agent-session/', type: 'Directory' },
      { path: 'agent-session/thread.json', type: 'File', data: '{"threadId":"t"}' },
      { path: 'agent-sessions-not/x', type: 'File', data: 'no' },
      { path: 'repo/big.bin', type: 'File', data: 'x'.repeat(4000) },
    ];
    await writeFile(archive, rawTarGz(entries));
    expect(await extractArchiveSafely(archive, dest, { onlyUnder: 'agent-session', maxEntries: 2, maxBytes: 100, maxTarBytes: 1024 * 1024 })).toEqual({ entries: 2, bytes: 16 });
    expect(await readdir(dest)).toEqual(['agent-session']);
    expect(await readdir(join(dest, 'agent-session'))).toEqual(['thread.json']);
  });

  it('rejects more bytes than maxBytes', async () => {
    const archive = join(dir, 'big.tar.gz');
    await writeFile(archive, rawTarGz([{ path: 'big', type: 'File', data: 'x'.repeat(2000) }]));
    await expectTransferError(extractArchiveSafely(archive, dest, { maxBytes: 1999 }), 'UNSAFE_ENTRY');
    expect(await readdir(dest)).toEqual([]);
  });

  it('rejects a file that is not a tar.gz', async () => {
    const archive = join(dir, 'garbage.tar.gz');
    await writeFile(archive, randomBytes(4096));
    await expectTransferError(extractArchiveSafely(archive, dest), 'UNSAFE_ENTRY');
  });

  it('refuses data after the end-of-archive marker at once, without handing it to node-tar', async () => {
    const archive = join(dir, 'trailing.tar.gz');
    // The attack from issue 14: a small valid archive, then a long tail that node-tar re-buffered quadratically.
    const tail = Buffer.alloc(8 * 1024 * 1024, 0x41);
    await writeFile(archive, gzipSync(Buffer.concat([rawTarEntries([{ path: 'TASK.md', type: 'File', data: 'fine' }]), Buffer.alloc(1024), tail])));
    const startedAt = process.hrtime.bigint();
    await expectTransferError(extractArchiveSafely(archive, dest), 'UNSAFE_ENTRY');
    await extractArchiveSafely(archive, dest).catch((error: unknown) => {
      expect((error as Error).message).toBe('the archive has data after its end-of-archive marker');
    });
    expect(await readdir(dest)).toEqual([]);
    // Not a timing assertion on the machine's speed: the old path took minutes on this input.
    expect(Number(process.hrtime.bigint() - startedAt) / 1e9).toBeLessThan(30);
  });

  it('accepts zero padding after the end-of-archive marker, as tar writers add', async () => {
    const archive = join(dir, 'padded.tar.gz');
    await writeFile(archive, gzipSync(Buffer.concat([rawTarEntries([{ path: 'TASK.md', type: 'File', data: 'fine' }]), Buffer.alloc(20 * 512)])));
    expect(await extractArchiveSafely(archive, dest)).toEqual({ entries: 1, bytes: 4 });
  });

  it('refuses more than a megabyte of zero padding after the end: no tar writer pads that much', async () => {
    const archive = join(dir, 'padding.tar.gz');
    await writeFile(archive, gzipSync(Buffer.concat([rawTarEntries([{ path: 'TASK.md', type: 'File', data: 'fine' }]), Buffer.alloc(64 * 1024 * 1024)])));
    await expectTransferError(extractArchiveSafely(archive, dest), 'UNSAFE_ENTRY');
    expect(await readdir(dest)).toEqual([]);
  });

  it('counts decompressed bytes itself: past maxTarBytes it stops with TOO_LARGE, whatever the headers declare', async () => {
    const archive = join(dir, 'bomb.tar.gz');
    // 64 MiB of zeros in one entry: within maxBytes (1 GiB by default), so only the project's own count stops it.
    const entry = rawTarEntries([{ path: 'zeros.bin', type: 'File', data: '\0'.repeat(64 * 1024 * 1024) }]);
    await writeFile(archive, gzipSync(Buffer.concat([entry, Buffer.alloc(1024)])));
    await expectTransferError(extractArchiveSafely(archive, dest, { maxTarBytes: 8 * 1024 * 1024 }), 'TOO_LARGE');
    expect(await readdir(dest)).toEqual([]);
    expect(await extractArchiveSafely(archive, dest, { maxTarBytes: 65 * 1024 * 1024 })).toEqual({ entries: 1, bytes: 64 * 1024 * 1024 });
  });

  it('refuses a zero-filled entry larger than maxBytes from its header, before expanding it', async () => {
    const archive = join(dir, 'sparse.tar.gz');
    await writeFile(archive, rawTarGz([{ path: 'disk-filler.bin', type: 'File', data: '\0'.repeat(4 * 1024 * 1024) }]));
    expect((await readFile(archive)).length).toBeLessThan(16 * 1024);
    await expectTransferError(extractArchiveSafely(archive, dest, { maxBytes: 1024 * 1024 }), 'UNSAFE_ENTRY');
    expect(await readdir(dest)).toEqual([]);
  });

  it('refuses an archive without an end-of-archive marker', async () => {
    const archive = join(dir, 'cut.tar.gz');
    await writeFile(archive, gzipSync(rawTarEntries([{ path: 'TASK.md', type: 'File', data: 'fine' }])));
    await expectTransferError(extractArchiveSafely(archive, dest), 'UNSAFE_ENTRY');
  });

  it('masks modes to 0o777: no setuid, setgid or sticky bit survives', async () => {
    const archive = join(dir, 'setuid.tar.gz');
    await writeFile(
      archive,
      rawTarGz([
        { path: 'bin', type: 'Directory', mode: 0o1777 },
        { path: 'bin/escalate', type: 'File', data: '#!/bin/sh\n', mode: 0o4755 },
        { path: 'bin/group', type: 'File', data: 'g', mode: 0o2750 },
      ]),
    );
    await extractArchiveSafely(archive, dest);
    expect((await stat(join(dest, 'bin/escalate'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, 'bin/group'))).mode & 0o7000).toBe(0);
    expect((await stat(join(dest, 'bin'))).mode & 0o7000).toBe(0);
  });
});
