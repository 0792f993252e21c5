import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Identifies one job attempt's results; every id ends up in an object key or a file path. */
export interface ResultKey {
  jobId: string;
  workerId: string;
  attempt: number;
}

/**
 * Keeps the result archive a worker uploaded, one copy per job attempt, and beside it the attempt's agent session
 * (the archive's `agent-session/` entries alone, docs/context-reuse.md), so a follow-up need not fetch the archive.
 */
export interface ResultStore {
  store(key: ResultKey, archivePath: string): Promise<{ location: string }>;
  /** The stored archive as a stream (the caller consumes or destroys it); undefined when there is none. */
  open(key: ResultKey): Promise<Readable | undefined>;
  storeSession(key: ResultKey, sessionPath: string): Promise<{ location: string }>;
  /** undefined for results stored before session objects existed. */
  openSession(key: ResultKey): Promise<Readable | undefined>;
}

/**
 * Copies an attempt's agent session to `path` (created owner-only; it must not exist): its session object, or the
 * whole archive for results stored before session objects existed, or whose session object is empty (the conductor
 * stores an empty one for a session over its bounds, so that the archive decides). undefined: neither is stored.
 */
export async function downloadAgentSession(store: ResultStore, key: ResultKey, path: string): Promise<'session-object' | 'archive' | undefined> {
  if (await copyTo(await store.openSession(key), path)) return 'session-object';
  await rm(path, { force: true });
  return (await copyTo(await store.open(key), path)) ? 'archive' : undefined;
}

/** false when there is no stream, or it was empty. */
async function copyTo(stream: Readable | undefined, path: string): Promise<boolean> {
  if (!stream) return false;
  await pipeline(stream, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  return (await stat(path)).size > 0;
}

/** UUID-like slugs: no separators, no dots, so an id can never climb out of its directory or key prefix. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function validateResultKey(key: ResultKey): void {
  if (!ID_PATTERN.test(key.jobId)) throw new Error(`invalid jobId for a result key: ${JSON.stringify(key.jobId)}`);
  if (!ID_PATTERN.test(key.workerId)) throw new Error(`invalid workerId for a result key: ${JSON.stringify(key.workerId)}`);
  if (!Number.isInteger(key.attempt) || key.attempt < 1) throw new Error(`invalid attempt for a result key: ${key.attempt}`);
}

/** `<jobId>/attempt-<n>-<workerId>.tar.gz`, shared by every store so that results look alike wherever they live. */
export function resultArchiveName(key: ResultKey): string {
  validateResultKey(key);
  return `${key.jobId}/attempt-${key.attempt}-${key.workerId}.tar.gz`;
}

/** `<jobId>/attempt-<n>-<workerId>.agent-session.tar.gz`: beside the archive, so whatever expires the archive expires it too. */
export function resultSessionName(key: ResultKey): string {
  validateResultKey(key);
  return `${key.jobId}/attempt-${key.attempt}-${key.workerId}.agent-session.tar.gz`;
}

/** The local default (RESULT_STORE=directory): `<directory>/<jobId>/attempt-<n>-<workerId>.tar.gz`. */
export class DirectoryResultStore implements ResultStore {
  private readonly directory: string;

  constructor(config: { directory: string }) {
    if (!config.directory) throw new Error('DirectoryResultStore needs a directory');
    this.directory = resolve(config.directory);
  }

  async store(key: ResultKey, archivePath: string): Promise<{ location: string }> {
    return this.copyIn(key, resultArchiveName(key), archivePath);
  }

  async open(key: ResultKey): Promise<Readable | undefined> {
    return this.openFile(resultArchiveName(key));
  }

  async storeSession(key: ResultKey, sessionPath: string): Promise<{ location: string }> {
    return this.copyIn(key, resultSessionName(key), sessionPath);
  }

  async openSession(key: ResultKey): Promise<Readable | undefined> {
    return this.openFile(resultSessionName(key));
  }

  private async copyIn(key: ResultKey, name: string, archivePath: string): Promise<{ location: string }> {
    const target = join(this.directory, name);
    // Owner-only, like the archives themselves: another uid on the host has no business reading results.
    await mkdir(join(this.directory, key.jobId), { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a reader never sees half an archive and a crash leaves no partial result.
    const partial = `${target}.${randomUUID()}.partial`;
    try {
      await pipeline(createReadStream(archivePath), createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { location: target };
  }

  private async openFile(name: string): Promise<Readable | undefined> {
    const stream = createReadStream(join(this.directory, name));
    try {
      await once(stream, 'open');
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return undefined;
      throw error;
    }
    return stream;
  }
}
