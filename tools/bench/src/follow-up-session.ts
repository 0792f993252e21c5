/**
 * What a follow-up's launch reads to find the earlier job's agent session (docs/context-reuse.md): the small session
 * object stored beside the result archive at upload, versus the whole archive (results stored before there were any).
 *
 *   npm run --silent bench:follow-up-session [-- --runs <N>] [-- --archive-mib <M>]   (--help)
 *
 * One result tree: a work dir of incompressible files (~M MiB in the archive), agent-meta/, and a small agent-session/
 * (a ~280 KiB rollout of random text and thread.json). It is packed as the worker packs it, its session object as the conductor writes
 * it at upload (packSubdirectory), both kept in a DirectoryResultStore. Each run does the lookup's I/O the way
 * FollowUpSessionService does: downloadAgentSession into a scratch file, then extractArchiveSafely with the lookup's
 * bounds (only agent-session/, 64 entries, 64 MiB) and thread.json read back; the old path is the same attempt stored
 * without a session object. The conductor runs the extraction in a worker thread; here it runs in-process, the same
 * for both paths. A directory store reads from the page cache: with S3 each byte read is also a byte downloaded.
 *
 * Human-readable lines first; the LAST line is one JSON object:
 *   {"runs":N,"archiveBytes":…,"sessionObjectBytes":…,"old":{"medianMs":…,"bytesRead":…},"new":{…},"ratio":{"time":…,"bytes":…}}
 */
import { DirectoryResultStore, downloadAgentSession, type ResultKey, type ResultStore } from '@agent-conductor/aws';
import { numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { AGENT_SESSION_DIR, AGENT_SESSION_MAX_BYTES, AGENT_SESSION_MAX_ENTRIES, DEFAULT_EXTRACT_MAX_ENTRIES, extractArchiveSafely, packDirectory, packSubdirectory } from '@agent-conductor/contracts';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';

const MIB = 1024 * 1024;
/** The conductor's upload defaults. */
const MAX_UPLOAD_BYTES = 512 * MIB;
const EXTRACTION_EXPANSION = 4;
const THREAD_ID = '01a22dd8-755e-7dc2-a7e8-dbd010c98ea1';

const CLI = {
  name: 'bench:follow-up-session',
  synopsis: 'npm run --silent bench:follow-up-session [-- --runs N] [-- --archive-mib M]',
  summary: "Time and bytes read to find the earlier job's agent session: the session object versus the whole result archive.",
  options: {
    runs: { type: 'string', value: 'N', description: 'runs per path; medians are reported (default 7)' },
    'archive-mib': { type: 'string', value: 'M', description: 'size of the work dir in the result archive, in MiB (default 50)' },
  },
  notes: 'Human-readable lines first; the last line is one JSON object.',
} satisfies CliSpec<CliOptions>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** A result store that counts the bytes its readers pull from it. */
class CountingStore implements ResultStore {
  bytesRead = 0;

  constructor(private readonly inner: ResultStore) {}

  store(key: ResultKey, archivePath: string): Promise<{ location: string }> {
    return this.inner.store(key, archivePath);
  }

  storeSession(key: ResultKey, sessionPath: string): Promise<{ location: string }> {
    return this.inner.storeSession(key, sessionPath);
  }

  async open(key: ResultKey): Promise<Readable | undefined> {
    return this.counted(await this.inner.open(key));
  }

  async openSession(key: ResultKey): Promise<Readable | undefined> {
    return this.counted(await this.inner.openSession(key));
  }

  private counted(stream: Readable | undefined): Readable | undefined {
    if (!stream) return undefined;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    stream.on('error', (error) => counter.destroy(error));
    return stream.pipe(counter);
  }
}

/** The result tree a Codex job uploads: its work dir, agent-meta/ and a small agent-session/. */
async function resultTree(dir: string, archiveMib: number): Promise<void> {
  await mkdir(join(dir, 'repo', 'build'), { recursive: true });
  for (let index = 0; index < archiveMib; index += 1) await writeFile(join(dir, 'repo', 'build', `artifact-${index}.bin`), randomBytes(MIB));
  await mkdir(join(dir, 'agent-meta'));
  await writeFile(join(dir, 'agent-meta', 'ending-report.md'), '# Report\n\nRounded totals once per order.\n');
  const sessions = join(dir, AGENT_SESSION_DIR, 'sessions', '2026', '11', '30');
  await mkdir(sessions, { recursive: true });
  // Random text, so the rollout compresses about as little as a real one full of code and command output.
  const lines = Array.from({ length: 512 }, () => `${JSON.stringify({ type: 'response_item', payload: { text: randomBytes(384).toString('base64') } })}\n`);
  await writeFile(join(sessions, `rollout-2026-11-30T10-00-00-${THREAD_ID}.jsonl`), lines.join(''));
  await writeFile(join(dir, AGENT_SESSION_DIR, 'thread.json'), JSON.stringify({ threadId: THREAD_ID, savedAt: new Date().toISOString(), codexVersion: '0.163.0' }));
}

/** One lookup, as FollowUpSessionService reads the session: download, bounded extraction of agent-session/, thread.json. */
async function lookUp(store: ResultStore, key: ResultKey, scratch: string): Promise<{ ms: number; from: string }> {
  const dir = join(scratch, `lookup-${randomUUID()}`);
  await mkdir(dir, { mode: 0o700 });
  const startedAt = performance.now();
  try {
    const source = join(dir, 'source.tar.gz');
    const from = await downloadAgentSession(store, key, source);
    if (!from) throw new Error('no results stored');
    await extractArchiveSafely(source, join(dir, 'out'), {
      onlyUnder: AGENT_SESSION_DIR,
      maxEntries: AGENT_SESSION_MAX_ENTRIES,
      maxBytes: AGENT_SESSION_MAX_BYTES,
      ...(from === 'archive' ? { maxTarBytes: MAX_UPLOAD_BYTES * EXTRACTION_EXPANSION + DEFAULT_EXTRACT_MAX_ENTRIES * 3 * 512 + MIB } : {}),
    });
    const thread = JSON.parse(await readFile(join(dir, 'out', AGENT_SESSION_DIR, 'thread.json'), 'utf8')) as { threadId?: string };
    if (thread.threadId !== THREAD_ID) throw new Error(`read the wrong thread: ${String(thread.threadId)}`);
    return { ms: performance.now() - startedAt, from };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(runs: number, archiveMib: number): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-follow-up-session-'));
  try {
    const tree = join(scratch, 'results');
    await resultTree(tree, archiveMib);
    const archive = join(scratch, 'result.tar.gz');
    const sessionObject = join(scratch, 'result.agent-session.tar.gz');
    const { bytes: archiveBytes } = await packDirectory(tree, archive);
    const { bytes: sessionObjectBytes } = await packSubdirectory(tree, AGENT_SESSION_DIR, sessionObject);
    const store = new CountingStore(new DirectoryResultStore({ directory: join(scratch, 'archives') }));
    const jobId = randomUUID();
    const workerId = randomUUID();
    const withObject = { jobId, workerId, attempt: 2 };
    const stored = { jobId, workerId, attempt: 1 };
    await store.store(stored, archive);
    await store.store(withObject, archive);
    await store.storeSession(withObject, sessionObject);
    console.log(`result archive ${(archiveBytes / MIB).toFixed(1)} MiB, session object ${(sessionObjectBytes / 1024).toFixed(1)} KiB; ${runs} runs per path`);

    const paths = { old: { key: stored, times: [] as number[], bytesRead: 0 }, new: { key: withObject, times: [] as number[], bytesRead: 0 } };
    // One warm-up each, then alternating runs, so that neither path gets a quieter stretch of the shared machine.
    for (let run = -1; run < runs; run += 1) {
      for (const path of [paths.old, paths.new]) {
        store.bytesRead = 0;
        const { ms, from } = await lookUp(store, path.key, scratch);
        if ((path === paths.new) !== (from === 'session-object')) throw new Error(`the ${path === paths.new ? 'new' : 'old'} path read the ${from}`);
        if (run < 0) continue;
        path.times.push(ms);
        path.bytesRead = store.bytesRead;
      }
    }
    const summary = (path: { times: number[]; bytesRead: number }): { medianMs: number; bytesRead: number } => ({ medianMs: Math.round(median(path.times) * 10) / 10, bytesRead: path.bytesRead });
    const result = {
      runs,
      archiveBytes,
      sessionObjectBytes,
      old: summary(paths.old),
      new: summary(paths.new),
      ratio: { time: 0, bytes: 0 },
    };
    result.ratio = {
      time: Math.round((result.new.medianMs / result.old.medianMs) * 10_000) / 10_000,
      bytes: Math.round((result.new.bytesRead / result.old.bytesRead) * 10_000) / 10_000,
    };
    console.log(`old path (whole archive):  ${result.old.medianMs} ms median, ${result.old.bytesRead} bytes read`);
    console.log(`new path (session object): ${result.new.medianMs} ms median, ${result.new.bytesRead} bytes read`);
    console.log(`new / old: ${result.ratio.time} of the time, ${result.ratio.bytes} of the bytes`);
    console.log(JSON.stringify(result));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const options = startCli(CLI, ({ values }) => ({
  runs: numberOption(values.runs, 'runs', { fallback: 7, whole: true, min: 1 }),
  archiveMib: numberOption(values['archive-mib'], 'archive-mib', { fallback: 50, whole: true, min: 1 }),
}));
main(options.runs, options.archiveMib).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
