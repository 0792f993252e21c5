import type { LoggerService, LogLevel } from '@nestjs/common';
import { redactValue } from '@agent-conductor/contracts';
import { workerSecrets } from '../config/env.validators';
import { learnedSecrets } from '../config/learned-secrets';

/*
 * The worker runs in the agent's container and imports nothing of ours but the contracts, so it has this small
 * JSON logger of its own instead of @agent-conductor/observability. Same record shape: time, level, service,
 * context, msg, workerId, jobId, pid.
 */

/** Ids every line carries. One worker process serves one job, so process-wide state is the honest scope. */
const context: { workerId?: string; jobId?: string } = {};

export function setWorkerLogContext(fields: { workerId?: string; jobId?: string }): void {
  Object.assign(context, fields);
}

export function resetWorkerLogContext(): void {
  delete context.workerId;
  delete context.jobId;
}

export type WorkerLogFormat = 'json' | 'pretty';

export function workerLogFormat(env: NodeJS.ProcessEnv = process.env): WorkerLogFormat {
  const value = env['LOG_FORMAT']?.trim().toLowerCase();
  if (value === 'json' || value === 'pretty') return value;
  return env['NODE_ENV'] === 'production' ? 'json' : 'pretty';
}

const LEVEL: Record<LogLevel, string> = { log: 'info', warn: 'warn', error: 'error', fatal: 'fatal', debug: 'debug', verbose: 'verbose' };

export interface WorkerLoggerOptions {
  format: WorkerLogFormat;
  /** The worker's own credentials (WORKER_TOKEN, GitHub token, model API key): never printed, wherever they appear. */
  secrets: readonly string[];
  write?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export class WorkerLogger implements LoggerService {
  private readonly write: (line: string, stream: 'stdout' | 'stderr') => void;
  private readonly secrets: string[];

  constructor(private readonly options: WorkerLoggerOptions) {
    this.write = options.write ?? ((line, stream) => void (stream === 'stderr' ? process.stderr : process.stdout).write(line));
    this.secrets = options.secrets.filter((secret) => secret.length > 0);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.emit('log', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.emit('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.emit('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.emit('fatal', message, params);
  }
  debug(): void {
    // Nest's debug lines are not worth a line in every agent container's log.
  }
  verbose(): void {
    // As for debug.
  }

  private emit(level: LogLevel, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const name = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const stack = rest.find((param): param is string => typeof param === 'string');
    const fields =
      typeof message === 'object' && message !== null && !(message instanceof Error) ? (message as Record<string, unknown>) : { msg: message instanceof Error ? message.message : String(message) };
    const record = redactValue(
      {
        time: new Date().toISOString(),
        level: LEVEL[level],
        service: 'worker',
        ...(name ? { context: name } : {}),
        ...context,
        ...fields,
        ...(stack ? { stack } : message instanceof Error && message.stack ? { stack: message.stack } : {}),
        pid: process.pid,
      },
      [...this.secrets, ...learnedSecrets()],
    ) as Record<string, unknown>;
    const stream = level === 'error' || level === 'fatal' ? 'stderr' : 'stdout';
    if (this.options.format === 'json') {
      this.write(`${JSON.stringify(record)}\n`, stream);
      return;
    }
    const ids = [record['workerId'] ? `worker=${String(record['workerId'])}` : '', record['jobId'] ? `job=${String(record['jobId'])}` : ''].filter(Boolean).join(' ');
    const stackText = typeof record['stack'] === 'string' ? `\n${record['stack']}` : '';
    this.write(`[worker] ${String(record['time'])} ${String(record['level']).toUpperCase().padEnd(5)} ${name ? `[${name}] ` : ''}${String(record['msg'])}${ids ? `  ${ids}` : ''}${stackText}\n`, stream);
  }
}

/** The worker's logger: its id on every line from the start, its own credentials hidden. */
export function createWorkerLogger(
  config: { workerId: string; token: string; github?: { token: string }; modelApiKey?: string },
  env: NodeJS.ProcessEnv = process.env,
  write?: WorkerLoggerOptions['write'],
): WorkerLogger {
  setWorkerLogContext({ workerId: config.workerId });
  return new WorkerLogger({
    format: workerLogFormat(env),
    secrets: workerSecrets(config, env),
    ...(write ? { write } : {}),
  });
}
