import { BadRequestException, Body, Controller, Delete, HttpCode, NotFoundException, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ConsoleAuthService } from './console-auth.service';
import { ConsolePublic } from './console-auth.guard';
import { CONSOLE_SESSION_COOKIE, sessionCookie } from './console-session';

const loginBody = z.strictObject({ token: z.string().min(1).max(4096) });

function isHttps(request: IncomingMessage): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  return ('encrypted' in request.socket && request.socket.encrypted === true) || forwarded === 'https';
}

/** Token login for the browser: trades the token for an HttpOnly session cookie, so pages never hold the token. */
@ApiTags('session')
@Controller('api/v1/session')
@ConsolePublic()
export class ConsoleSessionController {
  constructor(private readonly auth: ConsoleAuthService) {}

  @Post()
  @HttpCode(204)
  @ApiOperation({ summary: 'Log in with the console token; sets the session cookie' })
  @ApiBody({ schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } })
  login(@Body() body: unknown, @Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse): void {
    this.requireTokenMode();
    const parsed = loginBody.safeParse(body);
    if (!parsed.success) throw new BadRequestException('expected a JSON body {"token": "..."}');
    const session = this.auth.login(parsed.data.token);
    if (!session) throw new UnauthorizedException('invalid token');
    response.setHeader('set-cookie', sessionCookie(session.value, session.maxAgeSeconds, isHttps(request)));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Log out: clears the session cookie' })
  logout(@Req() request: IncomingMessage, @Res({ passthrough: true }) response: ServerResponse): void {
    this.requireTokenMode();
    response.setHeader('set-cookie', `${CONSOLE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${isHttps(request) ? '; Secure' : ''}`);
  }

  private requireTokenMode(): void {
    if (!this.auth.enabled) throw new NotFoundException();
    if (this.auth.mode !== 'token') throw new BadRequestException('CONSOLE_AUTH=proxy: sign in through the proxy, not with a token');
  }
}
