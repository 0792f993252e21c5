import type { ResultKey, ResultStore } from '@agent-conductor/aws';
import { readArchiveEntries, redactSecrets } from '@agent-conductor/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { RESULT_ARCHIVE_STORE } from '../results/result-archive.store';

/** Where the worker's agent leaves them (the seed's artifact protocol, docs/design.md). */
export const AGENT_META_DIR = 'agent-meta';
export const ENDING_REPORT_PATH = `${AGENT_META_DIR}/ending-report.md`;
export const TRANSCRIPT_PATH = `${AGENT_META_DIR}/transcript.md`;

/** Enough for any report or transcript an agent writes (the worker caps transcripts at 200 KiB). */
export const RESULT_FILE_MAX_BYTES = 1024 * 1024;
const CACHED_ATTEMPTS = 32;

export interface AttemptResultFiles {
  /** Redacted; null when the attempt's archive has none. */
  report: string | null;
  transcript: string | null;
}

/**
 * The ending report and transcript of one attempt, read from its stored result archive (directory or S3) and
 * redacted. An attempt's archive no longer changes once its worker ended, so those are cached.
 */
@Injectable()
export class JobResultFiles {
  private readonly cache = new Map<string, AttemptResultFiles>();

  constructor(@Inject(RESULT_ARCHIVE_STORE) private readonly store: ResultStore) {}

  async read(key: ResultKey, final: boolean): Promise<AttemptResultFiles | undefined> {
    const cached = this.cache.get(key.workerId);
    if (cached) return cached;
    const archive = await this.store.open(key);
    if (!archive) return undefined;
    const entries = await readArchiveEntries(archive, {
      paths: [ENDING_REPORT_PATH, TRANSCRIPT_PATH],
      maxBytes: RESULT_FILE_MAX_BYTES,
      withinDir: AGENT_META_DIR,
    });
    const text = (path: string): string | null => {
      const entry = entries.get(path);
      if (!entry) return null;
      return redactSecrets(entry.text) + (entry.truncated ? `\n\n_(cut at ${RESULT_FILE_MAX_BYTES} bytes)_\n` : '');
    };
    const files = { report: text(ENDING_REPORT_PATH), transcript: text(TRANSCRIPT_PATH) };
    if (final) {
      if (this.cache.size >= CACHED_ATTEMPTS) this.cache.delete(this.cache.keys().next().value ?? '');
      this.cache.set(key.workerId, files);
    }
    return files;
  }
}
