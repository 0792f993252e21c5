import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleRequest } from './console-caller';
import { ConsoleAuthService } from './console-auth.service';

export type ConsoleRequestHandler = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Paths this handler leaves to others by default: Nest's controllers (ConsoleAuthGuard decides there, and the login
 * route must stay reachable), probes and metrics.
 */
export function isNestRoutePath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/health' || path.startsWith('/health/') || path === '/metrics';
}

export interface ConsoleAuthHandlerOptions {
  /** Which paths this handler judges; others pass untouched. Default: all but isNestRoutePath. */
  appliesTo?: (path: string) => boolean;
  /** Paths served without auth (the login page and its assets). */
  isPublic?: (path: string) => boolean;
  /** Where a browser asking for HTML without a session is sent (e.g. `/login`); others get a JSON 401. */
  loginPath?: string;
}

/**
 * The console guard for what Nest's guards do not see: routes registered on the HTTP adapter directly, such as
 * Swagger UI at /api/docs (the UI itself is served by controllers under the guard). Mount it before them and before
 * app.init() (Nest adds its 404 handler at init, so nothing mounted later is reached):
 * `app.use(consoleAuthHandler(auth, {...}))`, then the routes it guards.
 * Anything mounted that way runs before the controllers too, so a catch-all (an SPA's index.html) must skip
 * isNestRoutePath.
 */
export function consoleAuthHandler(auth: ConsoleAuthService, options: ConsoleAuthHandlerOptions = {}): ConsoleRequestHandler {
  return (request, response, next) => {
    // Express strips a mount prefix from `url`; `originalUrl` keeps the path the browser asked for.
    const url = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (!(options.appliesTo ?? ((candidate: string) => !isNestRoutePath(candidate)))(path)) return next();
    if (auth.enabled && options.isPublic?.(path)) return next();
    auth.authenticate(request).then(
      (outcome) => {
        if (outcome.ok) {
          (request as ConsoleRequest).consoleCaller = outcome.caller;
          return next();
        }
        const wantsHtml = (request.headers.accept ?? '').includes('text/html');
        if (outcome.status === 401 && options.loginPath && wantsHtml) {
          response.writeHead(302, { location: options.loginPath });
          response.end();
          return;
        }
        const body = outcome.status === 404 ? { statusCode: 404, message: 'Not Found' } : { statusCode: outcome.status, message: outcome.message };
        response.writeHead(outcome.status, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(body));
      },
      (error: unknown) => next(error),
    );
  };
}
