import { extractArchiveSafely, TransferError } from '@agent-conductor/contracts';
import { parentPort, workerData } from 'node:worker_threads';
import { writeSessionObject } from './agent-session-object';
import type { ExtractionReply, ExtractionRequest, ExtractionTotals } from './off-loop-extraction';

/** The worker thread behind extractOffLoop: one extraction, one reply, then it exits. */
const request = workerData as ExtractionRequest;

function reply(message: ExtractionReply): void {
  parentPort?.postMessage(message);
}

async function run(): Promise<ExtractionTotals> {
  const totals = await extractArchiveSafely(request.archivePath, request.destDir, request.options);
  if (request.sessionObjectPath === undefined) return totals;
  return { ...totals, sessionObject: await writeSessionObject(request.destDir, request.sessionObjectPath) };
}

run().then(
  (totals) => reply({ ok: true, ...totals }),
  (error: unknown) =>
    reply({
      ok: false,
      code: error instanceof TransferError ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    }),
);
