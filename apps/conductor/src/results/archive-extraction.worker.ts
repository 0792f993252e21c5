import { extractArchiveSafely, TransferError } from '@agent-conductor/contracts';
import { parentPort, workerData } from 'node:worker_threads';
import type { ExtractionReply, ExtractionRequest } from './off-loop-extraction';

/** The worker thread behind extractOffLoop: one extraction, one reply, then it exits. */
const request = workerData as ExtractionRequest;

function reply(message: ExtractionReply): void {
  parentPort?.postMessage(message);
}

extractArchiveSafely(request.archivePath, request.destDir, request.options).then(
  ({ entries, bytes }) => reply({ ok: true, entries, bytes }),
  (error: unknown) =>
    reply({
      ok: false,
      code: error instanceof TransferError ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    }),
);
