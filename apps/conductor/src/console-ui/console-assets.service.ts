import { Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException, StreamableFile, type OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { ConsoleAuthService } from '../console-auth/console-auth.service';

/** The built console's files (apps/console-ui/build.mjs), by name; nothing else under the directory is ever served. */
export const CONSOLE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'login.html': 'text/html; charset=utf-8',
  'assets/app.js': 'text/javascript; charset=utf-8',
  'assets/login.js': 'text/javascript; charset=utf-8',
  'assets/console.css': 'text/css; charset=utf-8',
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;

/** The one thing the console needs of the HTTP response (express's, under Nest's passthrough). */
export interface ResponseHeaders {
  setHeader(name: string, value: string): unknown;
}

/**
 * Reports are written by agents, and the console shows them: the page may run only its own script and style, load
 * nothing from elsewhere, and never be framed.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

@Injectable()
export class ConsoleAssetsService implements OnModuleInit {
  private readonly logger = new Logger('ConsoleUi');
  private readonly files = new Map<ConsoleFile, Buffer>();

  constructor(
    @Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'consoleUiDir'>,
    private readonly auth: ConsoleAuthService,
  ) {}

  async onModuleInit(): Promise<void> {
    const missing: string[] = [];
    for (const name of Object.keys(CONSOLE_FILES) as ConsoleFile[]) {
      try {
        this.files.set(name, await readFile(join(this.config.consoleUiDir, name)));
      } catch {
        missing.push(name);
      }
    }
    // A conductor without its console still schedules and launches: say so once instead of failing the boot.
    if (missing.length > 0) this.logger.warn(`the console is not built, ${missing.join(', ')} missing in ${this.config.consoleUiDir} (npx nx build console-ui)`);
  }

  /** The login page and its assets: open to anyone, but like the rest of the console absent while it is off. */
  servePublic(res: ResponseHeaders, name: ConsoleFile): StreamableFile {
    if (!this.auth.enabled) throw new NotFoundException();
    return this.serve(res, name);
  }

  serve(res: ResponseHeaders, name: ConsoleFile): StreamableFile {
    res.setHeader('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Pages and bundles change with every deploy and are tiny: never keep a stale one.
    res.setHeader('Cache-Control', 'no-store');
    const body = this.files.get(name);
    if (!body) throw new ServiceUnavailableException('The console is not built on this conductor; see its log.');
    return new StreamableFile(body, { type: CONSOLE_FILES[name], length: body.length });
  }
}
