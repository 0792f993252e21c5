import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** Who called the console: `name` is what actions store as the actor (`token`, the proxy user's email, `cli:<user>`). */
export interface ConsoleCaller {
  kind: 'token' | 'proxy' | 'cli';
  name: string;
}

/** The request after ConsoleAuthGuard let it through. */
export interface ConsoleRequest extends IncomingMessage {
  consoleCaller?: ConsoleCaller;
}

/** The authenticated caller of a console route; the guard has set it, so a missing one is a wiring bug. */
export const ConsoleCaller = createParamDecorator((_data: unknown, context: ExecutionContext): ConsoleCaller => {
  const caller = context.switchToHttp().getRequest<ConsoleRequest>().consoleCaller;
  if (!caller) throw new Error('@ConsoleCaller() used on a route ConsoleAuthGuard did not authenticate');
  return caller;
});
