import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { packDirectory } from '@agent-conductor/contracts';
import { ConductorClient } from '../conductor/conductor-client';
import { learnedSecrets } from '../config/learned-secrets';
import { FileSystem } from '../fs/file-system';
import { AgentSandbox } from '../process/agent-sandbox';
import { REPO_DIR_NAME } from '../workspace/repository.service';
import { redactFilesIn } from './redact-work-dir';

/** Git internals are history the remote already has (or the pushed branch carries); they only bloat the upload. */
function isGitInternals(relativePath: string): boolean {
  return relativePath.split('/').includes('.git');
}

const isRepo = (relativePath: string): boolean => relativePath === REPO_DIR_NAME || relativePath.startsWith(`${REPO_DIR_NAME}/`);

/** Packs the work dir (minus git internals) and uploads it to the conductor, within its size limit. */
@Injectable()
export class ResultsUploader {
  private readonly logger = new Logger(ResultsUploader.name);

  constructor(
    private readonly conductor: ConductorClient,
    private readonly fs: FileSystem,
    private readonly sandbox: AgentSandbox,
  ) {}

  /**
   * packDirectory packs regular files and directories only (no symlinks, lstat-based), and reads with the
   * worker's rights: every agent process is ended first, so none can swap a checked file for a link mid-pack.
   */
  async upload(workDir: string, maxUploadBytes: number): Promise<{ bytes: number; sha256: string }> {
    await this.sandbox.killAll();
    // The agent's AWS session was its to read, and it may have copied it into a file: the archive must not carry it.
    const redacted = await redactFilesIn(workDir, learnedSecrets(), isGitInternals);
    if (redacted.length > 0) this.logger.warn(`Redacted the agent's AWS session from ${redacted.length} file(s) before upload: ${redacted.join(', ')}`);
    const scratch = await this.fs.makeTempDir('agent-conductor-results-');
    try {
      const archivePath = join(scratch, 'results.tar.gz');
      let archive = await packDirectory(workDir, archivePath, { exclude: isGitInternals });
      if (maxUploadBytes > 0 && archive.bytes > maxUploadBytes) {
        // The agent's reports matter more than a copy of the working tree, which the pushed branch has anyway.
        this.logger.warn(`Results with repo/ are ${archive.bytes} bytes (limit ${maxUploadBytes}); uploading without repo/`);
        archive = await packDirectory(workDir, archivePath, { exclude: (path) => isGitInternals(path) || isRepo(path) });
      }
      if (maxUploadBytes > 0 && archive.bytes > maxUploadBytes) {
        throw new Error(`result archive is ${archive.bytes} bytes even without repo/, over the conductor's limit of ${maxUploadBytes}`);
      }
      const response = await this.conductor.uploadResults(archivePath, archive);
      this.logger.log(`Uploaded results: ${response.receivedBytes} bytes`);
      return archive;
    } finally {
      await this.fs.remove(scratch);
    }
  }
}
