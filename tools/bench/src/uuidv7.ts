/**
 * What a UUIDv7 costs the ingest path, which makes up to five per message (libs/db ingest.repository.ts and
 * incident-ingest.ts): the libs/db export (the `uuidv7` package's generator with a pooled random source), the
 * package's default generator, and Node's randomUUID (v4, the floor of any random id).
 *
 *   npm run --silent bench:uuidv7 [-- --rounds <N>] [--ids <N>]
 *
 * Human-readable lines first; the LAST line is one JSON array of {"generator":…,"medianNsPerId":…}.
 * The machine is shared: compare runs made back to back.
 */
import { numberOption, startCli, type ParsedCli } from '@agent-conductor/cli-args';
import { uuidv7 as ingestUuidv7 } from '@agent-conductor/db';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { uuidv7 as packageUuidv7 } from 'uuidv7';

const CLI = {
  name: 'bench:uuidv7',
  synopsis: 'npm run --silent bench:uuidv7 -- [--rounds N] [--ids N]',
  summary: 'What a UUIDv7 costs the ingest path, next to the uuidv7 package default and randomUUID (v4).',
  options: {
    rounds: { type: 'string', value: 'N', description: 'interleaved rounds; the median is reported (default 15)' },
    ids: { type: 'string', value: 'N', description: 'ids per generator per round (default 200000)' },
  },
  notes: 'The last stdout line is one JSON array of {"generator":…,"medianNsPerId":…}.',
} as const;

interface Options {
  rounds: number;
  ids: number;
}

const GENERATORS: Array<{ name: string; next: () => string }> = [
  { name: 'libs/db uuidv7 (package generator, pooled random)', next: () => ingestUuidv7() },
  { name: 'uuidv7 package default', next: () => packageUuidv7() },
  { name: 'node:crypto randomUUID (v4)', next: () => randomUUID() },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function parseOptions({ values }: ParsedCli<typeof CLI.options>): Options {
  return {
    rounds: numberOption(values.rounds, 'rounds', { fallback: 15, whole: true, min: 1 }),
    ids: numberOption(values.ids, 'ids', { fallback: 200_000, whole: true, min: 1 }),
  };
}

function main({ rounds, ids }: Options): void {
  const perRound = new Map<string, number[]>(GENERATORS.map(({ name }) => [name, []]));
  // Keeps the results reachable so the loop cannot be optimised away.
  let checksum = 0;
  for (let round = 0; round < rounds; round += 1) {
    // Interleaved, so a noisy neighbour on the shared machine hits every generator alike.
    for (const { name, next } of GENERATORS) {
      const startedAt = performance.now();
      for (let index = 0; index < ids; index += 1) checksum += next().charCodeAt(35);
      perRound.get(name)?.push(((performance.now() - startedAt) * 1e6) / ids);
    }
  }
  const results = GENERATORS.map(({ name }) => ({ generator: name, medianNsPerId: Math.round(median(perRound.get(name) ?? []) * 10) / 10 }));
  for (const { generator, medianNsPerId } of results) {
    process.stdout.write(`${generator}: ${medianNsPerId} ns per id (median of ${rounds} rounds of ${ids})\n`);
  }
  process.stdout.write(`(checksum ${checksum})\n${JSON.stringify(results)}\n`);
}

main(startCli(CLI, parseOptions));
