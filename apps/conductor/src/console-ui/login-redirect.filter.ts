import { Catch, UnauthorizedException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONSOLE_LOGIN_PATH = '/login';

/**
 * A browser that opens the console without a session gets the login page, with the page it wanted to come back to;
 * a script (fetch, curl) gets the guard's JSON 401 unchanged.
 */
@Catch(UnauthorizedException)
export class LoginRedirectFilter implements ExceptionFilter {
  catch(exception: UnauthorizedException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    if ((request.headers.accept ?? '').includes('text/html')) {
      response.writeHead(302, { location: CONSOLE_LOGIN_PATH, 'cache-control': 'no-store' });
      response.end();
      return;
    }
    response.writeHead(401, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(exception.getResponse()));
  }
}
