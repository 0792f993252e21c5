import type { LoggerService, LogLevel } from '@nestjs/common';
import { currentLogContext } from './log-context';
import type { LogFormat } from './log-format';
import { redactText, redactValue } from './redact';

export type LogStream = 'stdout' | 'stderr';

export interface StructuredLoggerOptions {
  /** `service` field of every line: conductor, scheduler. */
  service: string;
  format: LogFormat;
  /** Adds debug and verbose to log, warn, error and fatal. */
  debug?: boolean;
  /** Exact values never to print (a process's own credentials). */
  secrets?: readonly string[];
  /** Where lines go; defaults to process.stdout / process.stderr (errors). */
  write?: (line: string, stream: LogStream) => void;
  /** Clock for the `time` field (tests). */
  now?: () => Date;
  /** Fields found in the message text, weaker than explicit and context fields (see {@link jobAndWorkerIdsInText}). */
  fieldsFromText?: (message: string) => Record<string, string>;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const JOB_IN_TEXT = new RegExp(`\\bjob (${UUID})`, 'i');
const WORKER_IN_TEXT = new RegExp(`\\bworker (${UUID})`, 'i');

/**
 * Many lines name their job and worker in prose ("job <id> … worker <id> launched"); lifting those ids into
 * fields makes every such line searchable by id without each call site passing them twice.
 */
export function jobAndWorkerIdsInText(message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const job = JOB_IN_TEXT.exec(message)?.[1];
  const worker = WORKER_IN_TEXT.exec(message)?.[1];
  if (job) fields['jobId'] = job;
  if (worker) fields['workerId'] = worker;
  return fields;
}

const LEVEL_NAMES: Record<LogLevel, string> = {
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
  debug: 'debug',
  verbose: 'verbose',
};

const STACK_LINE = /\n\s+at /;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error);
}

/**
 * Nest's LoggerService writing one record per line. Ids are fields, not prose: the job and worker ids come from
 * the async context ({@link runWithLogContext}) and from object messages, so
 * `logger.log({ msg: 'launched', jobId, workerId })` and a plain `logger.log('launched')` inside a job's context
 * both produce `"jobId":…,"workerId":…`. Everything passes through redaction first.
 */
export class StructuredLogger implements LoggerService {
  private levels: Set<LogLevel>;
  private readonly write: (line: string, stream: LogStream) => void;
  private readonly now: () => Date;
  private readonly secrets: string[];

  constructor(private readonly options: StructuredLoggerOptions) {
    this.levels = new Set<LogLevel>(['log', 'warn', 'error', 'fatal', ...(options.debug ? (['debug', 'verbose'] as const) : [])]);
    this.write = options.write ?? ((line, stream) => void (stream === 'stderr' ? process.stderr : process.stdout).write(line));
    this.now = options.now ?? (() => new Date());
    this.secrets = [...(options.secrets ?? [])];
  }

  /** Registers a credential learnt after start-up (a token handed out) so that its exact value is hidden too. */
  addSecret(secret: string): void {
    this.secrets.push(secret);
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

  debug(message: unknown, ...params: unknown[]): void {
    this.emit('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.emit('verbose', message, params);
  }

  setLogLevels(levels: LogLevel[]): void {
    this.levels = new Set(levels);
  }

  /** The record a call would print, before formatting; exported for the pretty format and tests. */
  record(level: LogLevel, message: unknown, params: unknown[]): Fields {
    // Nest's Logger appends its context as the last argument; before it, an error's stack (or an Error).
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const extra: Fields = {};
    const args: unknown[] = [];
    for (const param of rest) {
      if (param === undefined) continue;
      if (param instanceof Error) extra['err'] = param;
      else if (typeof param === 'string' && (level === 'error' || level === 'fatal' || STACK_LINE.test(param))) extra['stack'] = param;
      else if (isRecord(param)) Object.assign(extra, param);
      else args.push(param);
    }
    if (args.length > 0) extra['args'] = args;
    let body: Fields;
    if (message instanceof Error) body = { msg: message.message, err: message };
    else if (isRecord(message)) {
      const { msg, message: text, ...fields } = message;
      body = { msg: typeof msg === 'string' ? msg : typeof text === 'string' ? text : '', ...fields };
    } else body = { msg: typeof message === 'string' ? message : String(message) };
    const record: Fields = {
      time: this.now().toISOString(),
      level: LEVEL_NAMES[level],
      service: this.options.service,
      ...(context ? { context } : {}),
      ...(this.options.fieldsFromText && typeof body['msg'] === 'string' ? this.options.fieldsFromText(body['msg']) : {}),
      ...currentLogContext(),
      ...body,
      ...extra,
      pid: process.pid,
    };
    return redactValue(record, this.secrets) as Fields;
  }

  private emit(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.levels.has(level)) return;
    const record = this.record(level, message, params);
    const stream: LogStream = level === 'error' || level === 'fatal' ? 'stderr' : 'stdout';
    this.write(`${this.options.format === 'json' ? this.json(record) : this.pretty(record)}\n`, stream);
  }

  private json(record: Fields): string {
    try {
      return JSON.stringify(record);
    } catch {
      // BigInt or a throwing toJSON must not lose the line: keep the message, drop the fields.
      return JSON.stringify({ time: record['time'], level: record['level'], service: record['service'], msg: redactText(String(record['msg']), this.secrets) });
    }
  }

  private pretty(record: Fields): string {
    const { time, level, service, context, msg, pid, stack, err, ...fields } = record;
    const tail = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    const error = isRecord(err) && typeof err['stack'] === 'string' ? `\n${err['stack']}` : '';
    return (
      `[${String(service)}] ${String(pid)} ${String(time)} ${String(level).toUpperCase().padEnd(5)} ` +
      `${context ? `[${String(context)}] ` : ''}${String(msg)}${tail ? `  ${tail}` : ''}` +
      `${typeof stack === 'string' ? `\n${stack}` : ''}${error}`
    );
  }
}
