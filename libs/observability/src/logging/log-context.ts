import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written inside a unit of work carries: the job and worker it is about. */
export interface LogContextFields {
  jobId?: string;
  workerId?: string;
  messageId?: string;
  [field: string]: string | number | boolean | undefined;
}

const storage = new AsyncLocalStorage<LogContextFields>();

/**
 * Runs `work` with `fields` attached to every log line it writes, including lines from code that never sees
 * the ids (repositories, the launcher, Nest internals). Nested calls add to the outer fields.
 */
export function runWithLogContext<T>(fields: LogContextFields, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, work);
}

/**
 * Adds fields to the current context once they become known mid-way (a gRPC handler learns the job id only
 * after authenticating the worker). Outside {@link runWithLogContext} there is no context to add to, and this
 * is a no-op rather than a leak into unrelated work.
 */
export function addLogContext(fields: LogContextFields): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

export function currentLogContext(): Readonly<LogContextFields> {
  return storage.getStore() ?? {};
}
