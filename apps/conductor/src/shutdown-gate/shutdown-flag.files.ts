import { Inject, Injectable } from '@nestjs/common';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';

export const SHUTTING_DOWN_FILE = 'IS_CONDUCTOR_SHUTTING_DOWN';
export const READY_FILE = 'CONDUCTOR_READY_FOR_SAFE_SHUTDOWN';

/** The two files of the seed's deploy contract, in CONDUCTOR_RUN_DIR. */
@Injectable()
export class ShutdownFlagFiles {
  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: ConductorConfig) {}

  get shuttingDownPath(): string {
    return join(this.config.runDir, SHUTTING_DOWN_FILE);
  }

  get readyPath(): string {
    return join(this.config.runDir, READY_FILE);
  }

  /** A fresh conductor is not shutting down, whatever its predecessor left behind. */
  async reset(): Promise<void> {
    await mkdir(this.config.runDir, { recursive: true });
    await writeFile(this.shuttingDownPath, 'false\n');
    await rm(this.readyPath, { force: true });
  }

  /** Only an explicit "true" starts the drain; a missing or half-written file does not. */
  async isShuttingDown(): Promise<boolean> {
    try {
      return (await readFile(this.shuttingDownPath, 'utf8')).trim() === 'true';
    } catch {
      return false;
    }
  }

  async markReady(): Promise<void> {
    await writeFile(this.readyPath, 'true\n');
  }
}
