import { ForbiddenException, Injectable, NotFoundException, SetMetadata, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ConsoleRequest } from './console-caller';
import { ConsoleAuthService, type ConsoleAuthOutcome } from './console-auth.service';

const CONSOLE_PUBLIC = 'agent-conductor:console-public';

/**
 * Opts a controller or handler out of console auth. Only /health*, /metrics and the session login use it: every
 * other HTTP route is protected by default, so a new route cannot be forgotten.
 */
export const ConsolePublic = (): ClassDecorator & MethodDecorator => SetMetadata(CONSOLE_PUBLIC, true);

export function authFailure(outcome: Extract<ConsoleAuthOutcome, { ok: false }>): Error {
  if (outcome.status === 404) return new NotFoundException();
  if (outcome.status === 403) return new ForbiddenException(outcome.message);
  return new UnauthorizedException(outcome.message);
}

/** Registered globally by ConsoleAuthModule: every HTTP route but the @ConsolePublic ones needs a console caller. */
@Injectable()
export class ConsoleAuthGuard implements CanActivate {
  constructor(
    private readonly auth: ConsoleAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // The worker gRPC server shares the app; workers authenticate with their own tokens (worker-auth.service).
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(CONSOLE_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const outcome = await this.auth.authenticate(request);
    if (!outcome.ok) throw authFailure(outcome);
    request.consoleCaller = outcome.caller;
    return true;
  }
}
