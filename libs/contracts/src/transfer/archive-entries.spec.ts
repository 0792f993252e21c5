import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { packDirectory, readArchiveEntries } from './archive';

describe('readArchiveEntries', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-entries-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function archiveOf(files: Record<string, string | Buffer>): Promise<string> {
    const source = join(dir, 'source');
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(source, path, '..'), { recursive: true });
      await writeFile(join(source, path), content);
    }
    const archive = join(dir, 'results.tar.gz');
    await packDirectory(source, archive);
    return archive;
  }

  it('reads the wanted files of a packed directory and leaves out the missing ones', async () => {
    const archive = await archiveOf({ 'TASK.md': '# task', 'agent-meta/ending-report.md': '# Report\n', 'agent-meta/meta-info.txt': 'Title' });
    const entries = await readArchiveEntries(createReadStream(archive), { paths: ['agent-meta/ending-report.md', 'agent-meta/transcript.md', './TASK.md'], maxBytes: 1024 });
    expect(Object.fromEntries(entries)).toEqual({
      'agent-meta/ending-report.md': { text: '# Report\n', truncated: false },
      'TASK.md': { text: '# task', truncated: false },
    });
  });

  it('cuts a long file at maxBytes and says so', async () => {
    const archive = await archiveOf({ 'agent-meta/transcript.md': 'x'.repeat(5000) });
    const entries = await readArchiveEntries(createReadStream(archive), { paths: ['agent-meta/transcript.md'], maxBytes: 100 });
    expect(entries.get('agent-meta/transcript.md')).toEqual({ text: 'x'.repeat(100), truncated: true });
  });

  it('stops after the directory it was told to look in, without decompressing what follows', async () => {
    // Incompressible bytes after agent-meta/: reading them all would take the whole stream.
    const archive = await archiveOf({ 'agent-meta/ending-report.md': 'report', 'repo/big.bin': randomBytes(4 * 1024 * 1024) });
    const stream = createReadStream(archive, { highWaterMark: 16 * 1024 });
    let bytesRead = 0;
    stream.on('data', (chunk: string | Buffer) => (bytesRead += chunk.length));
    const entries = await readArchiveEntries(stream, { paths: ['agent-meta/ending-report.md'], maxBytes: 100, withinDir: 'agent-meta' });
    expect(entries.get('agent-meta/ending-report.md')?.text).toBe('report');
    expect(bytesRead).toBeLessThan(1024 * 1024);
    expect(stream.destroyed).toBe(true);
  });

  it('rejects a stream that is not a tar.gz', async () => {
    await expect(readArchiveEntries(Readable.from([Buffer.from('definitely not an archive')]), { paths: ['a'], maxBytes: 10 })).rejects.toThrow();
  });
});
