/**
 * How long extractArchiveSafely takes to reach its verdict on hostile uploads, and the longest stretch it
 * holds the event loop while doing so (in-process; the conductor runs it in a worker thread on top).
 *
 *   npm run --silent bench:hostile-archives [-- --runs <N>]   (--help)
 *
 * Human-readable lines first; the LAST line is one JSON array of
 *   {"archive":…,"uploadKiB":…,"verdict":…,"medianMs":…,"medianMaxLoopBlockMs":…}
 * The machine is shared: compare runs made back to back.
 */
import { numberOption, startCli, type CliOptions, type CliSpec } from '@agent-conductor/cli-args';
import { extractArchiveSafely, TransferError } from '@agent-conductor/contracts';
import { archiveWithTrailingData, END_OF_ARCHIVE, gzipRepeated, rawTar, zeroFilledArchive } from '@agent-conductor/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

const MIB = 1024 * 1024;

const ARCHIVES: Array<{ name: string; build: () => Buffer; options: { maxBytes: number } }> = [
  { name: "26 KiB upload: 25 MiB of 'A' after the end (issue 14)", build: () => archiveWithTrailingData(gzipRepeated(0x41, 25)), options: { maxBytes: 4 * 512 * MIB } },
  { name: "200 KiB upload: 200 MiB of 'A' after the end", build: () => archiveWithTrailingData(gzipRepeated(0x41, 200)), options: { maxBytes: 4 * 512 * MIB } },
  { name: '200 KiB upload: 200 MiB of zero padding after the end', build: () => archiveWithTrailingData(gzipRepeated(0, 200)), options: { maxBytes: 4 * 512 * MIB } },
  { name: '280 KiB upload: one zero-filled 256 MiB file, over maxBytes', build: () => zeroFilledArchive(256), options: { maxBytes: 64 * MIB } },
  { name: '64 KiB upload: one zero-filled 64 MiB file, accepted', build: () => zeroFilledArchive(64), options: { maxBytes: 4 * 512 * MIB } },
  {
    name: '5000 empty files, accepted',
    build: () => gzipSync(Buffer.concat([rawTar(Array.from({ length: 5000 }, (_, index) => ({ path: `f${index}`, type: 'File' as const }))), END_OF_ARCHIVE])),
    options: { maxBytes: 4 * 512 * MIB },
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const CLI = {
  name: 'bench:hostile-archives',
  synopsis: 'npm run --silent bench:hostile-archives [-- --runs N]',
  summary: "How long extractArchiveSafely takes to reach its verdict on hostile uploads, and its longest event-loop block.",
  options: {
    runs: { type: 'string', value: 'N', description: 'runs per archive; medians are reported (default 5)' },
  },
  notes: 'Human-readable lines first; the last line is one JSON array.',
} satisfies CliSpec<CliOptions>;

async function main(runs: number): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-hostile-'));
  const results: Array<{ archive: string; uploadKiB: number; verdict: string; medianMs: number; medianMaxLoopBlockMs: number }> = [];
  try {
    for (const archive of ARCHIVES) {
      const bytes = archive.build();
      const path = join(scratch, 'upload.tar.gz');
      await writeFile(path, bytes);
      const times: number[] = [];
      const blocks: number[] = [];
      let verdict = '';
      for (let run = 0; run < runs; run += 1) {
        const dest = join(scratch, `out-${run}`);
        const delay = monitorEventLoopDelay({ resolution: 5 });
        delay.enable();
        const startedAt = performance.now();
        verdict = await extractArchiveSafely(path, dest, archive.options).then(
          ({ entries }) => `accepted (${entries} entries)`,
          (error: unknown) => (error instanceof TransferError ? `refused ${error.code}` : `failed: ${String(error)}`),
        );
        times.push(performance.now() - startedAt);
        delay.disable();
        blocks.push(delay.max / 1e6);
        await rm(dest, { recursive: true, force: true });
      }
      const result = { archive: archive.name, uploadKiB: Math.round(bytes.length / 1024), verdict, medianMs: Math.round(median(times)), medianMaxLoopBlockMs: Math.round(median(blocks)) };
      console.log(`${result.archive}: ${result.verdict} in ${result.medianMs} ms (median of ${runs}), longest event-loop block ${result.medianMaxLoopBlockMs} ms`);
      results.push(result);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results));
}

main(startCli(CLI, ({ values }) => numberOption(values.runs, 'runs', { fallback: 5, whole: true, min: 1 }))).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
