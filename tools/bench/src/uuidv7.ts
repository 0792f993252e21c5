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
import { uuidv7 as ingestUuidv7 } from '@agent-conductor/db';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { uuidv7 as packageUuidv7 } from 'uuidv7';

const USAGE = 'usage: npm run --silent bench:uuidv7 [-- --rounds <N>] [--ids <N>]\n';

const GENERATORS: Array<{ name: string; next: () => string }> = [
  { name: 'libs/db uuidv7 (package generator, pooled random)', next: () => ingestUuidv7() },
  { name: 'uuidv7 package default', next: () => packageUuidv7() },
  { name: 'node:crypto randomUUID (v4)', next: () => randomUUID() },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got ${text}`);
  return value;
}

function main(): void {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '15' }, ids: { type: 'string', default: '200000' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const rounds = positiveInteger(values.rounds, '--rounds');
  const ids = positiveInteger(values.ids, '--ids');
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

try {
  main();
} catch (error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}
