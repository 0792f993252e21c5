import { TransferError, type ExtractOptions } from '@agent-conductor/contracts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { SessionObjectOutcome } from './agent-session-object';

export interface ExtractionRequest {
  archivePath: string;
  destDir: string;
  options: ExtractOptions;
  /** Once extracted, the session object is written here (writeSessionObject) in the same thread: packing is gzip work too. */
  sessionObjectPath?: string;
}

export interface ExtractionTotals {
  entries: number;
  bytes: number;
  sessionObject?: SessionObjectOutcome;
}

export type ExtractionReply =
  | ({ ok: true } & ExtractionTotals)
  | { ok: false; code: TransferError['code'] | undefined; message: string };

/** The worker entry's name: webpack builds it next to main.js (webpack.config.js, additionalEntryPoints). */
export const EXTRACTION_WORKER_ENTRY = 'archive-extraction.worker';

/**
 * A worker's heap cap: extraction streams, so it needs little, and an archive that makes node-tar
 * hoard memory kills the thread instead of the conductor.
 */
const WORKER_HEAP_MB = 256;

function startWorker(request: ExtractionRequest): Worker {
  const options: WorkerOptions = { workerData: request, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  const bundled = join(__dirname, `${EXTRACTION_WORKER_ENTRY}.js`);
  if (existsSync(bundled)) return new Worker(bundled, options);
  // Running from TypeScript sources (jest, tsx): tsx compiles the worker's module graph as well.
  const source = join(__dirname, `${EXTRACTION_WORKER_ENTRY}.ts`);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { ...options, eval: true });
}

/**
 * extractArchiveSafely in a worker thread. node-tar parses synchronously, in
 * stretches as long as its input allows; on the event loop, one hostile upload
 * would stall every other worker's heartbeat.
 */
export function extractOffLoop(archivePath: string, destDir: string, options: ExtractOptions, sessionObjectPath?: string): Promise<ExtractionTotals> {
  return new Promise((resolve, reject) => {
    const worker = startWorker({ archivePath, destDir, options, ...(sessionObjectPath ? { sessionObjectPath } : {}) });
    let settled = false;
    worker.once('message', (reply: ExtractionReply) => {
      settled = true;
      if (reply.ok) resolve({ entries: reply.entries, bytes: reply.bytes, ...(reply.sessionObject ? { sessionObject: reply.sessionObject } : {}) });
      else reject(reply.code ? new TransferError(reply.code, reply.message) : new Error(`archive extraction failed: ${reply.message}`));
    });
    worker.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`archive extraction exited with code ${code} before answering`));
    });
  });
}
