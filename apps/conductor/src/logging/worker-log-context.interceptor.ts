import { runWithLogContext } from '@agent-conductor/observability';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';

function workerIdOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || !('credentials' in data)) return undefined;
  const credentials = data.credentials;
  if (typeof credentials !== 'object' || credentials === null || !('workerId' in credentials)) return undefined;
  return typeof credentials.workerId === 'string' && credentials.workerId !== '' ? credentials.workerId : undefined;
}

/**
 * Every worker RPC carries the worker's id in its credentials; running the handler inside a log context with
 * that id makes each line it writes (repositories, launcher, result store included) carry `workerId`. The job
 * id joins once authentication has loaded the worker (addLogContext).
 */
@Injectable()
export class WorkerLogContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const workerId = workerIdOf(context.switchToRpc().getData());
    if (!workerId) return next.handle();
    // The handler runs when the stream is subscribed to, so the context must wrap the subscription.
    return new Observable((subscriber) => runWithLogContext({ workerId }, () => next.handle().subscribe(subscriber)));
  }
}
