import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { CONDUCTOR_CONFIG } from '../config/config.module';
import type { ConductorConfig } from '../config/env.validators';
import { AlbOidcVerifier, ProxyIdentityError } from './alb-oidc.verifier';
import type { ConsoleCaller } from './console-caller';
import { CONSOLE_SESSION_COOKIE, ConsoleSessions, readCookie, secretsEqual } from './console-session';

/** The header the console's own pages send on unsafe requests; a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_HEADER_VALUE = 'console';
export const PROXY_IDENTITY_HEADER = 'x-amzn-oidc-data';

export type ConsoleAuthOutcome =
  | { ok: true; caller: ConsoleCaller; via: 'bearer' | 'cookie' | 'proxy' }
  /** 404: the console is off; 401: no valid credentials; 403: a cookie request without the CSRF header. */
  | { ok: false; status: 401 | 403 | 404; message: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Decides who a console request comes from; the guard, the docs and the static UI all ask here. */
@Injectable()
export class ConsoleAuthService {
  private readonly logger = new Logger('ConsoleAuth');
  private readonly sessions: ConsoleSessions | undefined;
  private readonly proxy: AlbOidcVerifier | undefined;

  constructor(@Inject(CONDUCTOR_CONFIG) private readonly config: Pick<ConductorConfig, 'consoleAuth'>) {
    const auth = config.consoleAuth;
    if (auth.mode === 'token' && auth.token) this.sessions = new ConsoleSessions(auth.token, auth.sessionTtlMs);
    if (auth.mode === 'proxy') this.proxy = new AlbOidcVerifier({ albArn: auth.albArn, publicKeyUrl: auth.publicKeyUrl });
    if (auth.mode === 'token' && !auth.token) {
      this.logger.warn('operator console is off: set CONSOLE_TOKEN (or CONSOLE_TOKEN_FILE), or CONSOLE_AUTH=proxy (docs/console.md)');
    }
  }

  get enabled(): boolean {
    return this.sessions !== undefined || this.proxy !== undefined;
  }

  get mode(): 'token' | 'proxy' {
    return this.config.consoleAuth.mode;
  }

  async authenticate(request: IncomingMessage): Promise<ConsoleAuthOutcome> {
    if (!this.enabled) return { ok: false, status: 404, message: 'Not Found' };
    if (this.proxy) return this.authenticateProxy(this.proxy, request);
    const auth = this.config.consoleAuth;
    const token = auth.mode === 'token' ? auth.token : undefined;
    const authorization = header(request, 'authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1] || !token || !secretsEqual(match[1], token)) return { ok: false, status: 401, message: 'invalid bearer token' };
      return { ok: true, caller: { kind: 'token', name: 'token' }, via: 'bearer' };
    }
    const cookie = readCookie(header(request, 'cookie'), CONSOLE_SESSION_COOKIE);
    if (cookie === undefined || !this.sessions?.isValid(cookie)) {
      return { ok: false, status: 401, message: cookie === undefined ? 'authentication required' : 'session expired or invalid' };
    }
    if (!SAFE_METHODS.has((request.method ?? 'GET').toUpperCase()) && header(request, CSRF_HEADER) !== CSRF_HEADER_VALUE) {
      return { ok: false, status: 403, message: `cookie-authenticated ${request.method ?? ''} needs the header X-Requested-With: console` };
    }
    return { ok: true, caller: { kind: 'token', name: 'token' }, via: 'cookie' };
  }

  /** Token login for the session cookie; undefined when the token is wrong or token mode is off. */
  login(token: string): { value: string; maxAgeSeconds: number } | undefined {
    const auth = this.config.consoleAuth;
    if (auth.mode !== 'token' || !auth.token || !this.sessions || !secretsEqual(token, auth.token)) return undefined;
    return this.sessions.issue();
  }

  private async authenticateProxy(verifier: AlbOidcVerifier, request: IncomingMessage): Promise<ConsoleAuthOutcome> {
    const data = header(request, PROXY_IDENTITY_HEADER);
    if (!data) return { ok: false, status: 401, message: `no ${PROXY_IDENTITY_HEADER} header: reach the console through its ALB` };
    try {
      const { email } = await verifier.verify(data);
      return { ok: true, caller: { kind: 'proxy', name: email }, via: 'proxy' };
    } catch (error) {
      if (!(error instanceof ProxyIdentityError)) throw error;
      this.logger.warn(`proxy identity refused: ${error.message}`);
      return { ok: false, status: 401, message: `proxy identity refused: ${error.message}` };
    }
  }
}
