import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ACCOUNT_ID, SqsEngine } from './engine';
import { SqsError } from './errors';
import { isRecord } from './input';

export interface LocalSqsServerOptions {
  /** 0 picks a free port. Default 9324 (the port ElasticMQ uses, so tooling defaults line up). */
  port?: number;
  host?: string;
  region?: string;
}

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.0';

function errorTypeName(type: string): string {
  return type.includes('#') ? type : `com.amazonaws.sqs#${type}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new SqsError('com.amazon.coral.service#RequestEntityTooLarge', 'RequestEntityTooLarge', 'Request body is too large.', 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * An SQS endpoint speaking the AWS JSON 1.0 protocol that @aws-sdk/client-sqs v3 uses, backed by memory.
 * Queue URLs are `http://<host>:<port>/000000000000/<name>`.
 */
export class LocalSqsServer {
  private readonly port: number;
  private readonly host: string;
  private readonly engine: SqsEngine;
  private server: Server | undefined;
  private stopController = new AbortController();
  private endpointUrl: string | undefined;

  constructor(opts: LocalSqsServerOptions = {}) {
    this.port = opts.port ?? 9324;
    this.host = opts.host ?? '127.0.0.1';
    this.engine = new SqsEngine(opts.region ?? 'us-east-1');
  }

  get endpoint(): string {
    if (!this.endpointUrl) throw new Error('LocalSqsServer is not started');
    return this.endpointUrl;
  }

  async start(): Promise<{ endpoint: string; port: number }> {
    if (this.server) throw new Error('LocalSqsServer is already started');
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('LocalSqsServer: unexpected listen address');
    this.server = server;
    this.stopController = new AbortController();
    // A wildcard bind is not an address a client can dial; advertise loopback instead.
    const wildcard = this.host === '0.0.0.0' || this.host === '::';
    const host = wildcard ? '127.0.0.1' : this.host.includes(':') ? `[${this.host}]` : this.host;
    this.endpointUrl = `http://${host}:${address.port}`;
    this.engine.baseUrl = this.endpointUrl;
    return { endpoint: this.endpointUrl, port: address.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Ends pending long polls (they answer "no messages") so close() does not wait up to 20 s for them.
    this.stopController.abort();
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Creates a queue in-process (idempotent) and returns its URL; for the CLI and test set-up. */
  createQueue(name: string, attributes: Record<string, string> = {}): string {
    if (!this.server) throw new Error('LocalSqsServer is not started');
    return this.engine.createQueue(name, attributes);
  }

  /** The ARN SQS would give the queue, e.g. for a RedrivePolicy's deadLetterTargetArn. */
  queueArn(name: string): string {
    return `arn:aws:sqs:${this.engine.region}:${ACCOUNT_ID}:${name}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const requestController = new AbortController();
    const abortRequest = (): void => requestController.abort();
    res.on('close', () => {
      if (!res.writableFinished) abortRequest();
    });
    this.stopController.signal.addEventListener('abort', abortRequest, { once: true });
    try {
      if (req.method !== 'POST') {
        throw new SqsError('com.amazon.coral.service#UnknownOperationException', 'InvalidAction', `local-sqs accepts POST only, got ${req.method ?? '?'}.`, 400);
      }
      const text = await readBody(req);
      const target = req.headers['x-amz-target'];
      const action = typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : undefined;
      if (action === undefined || !this.engine.hasAction(action)) {
        throw new SqsError(
          'com.amazon.coral.service#UnknownOperationException',
          'InvalidAction',
          `Unknown or unsupported operation ${typeof target === 'string' ? target : '(missing X-Amz-Target header)'}.`,
        );
      }
      let input: unknown;
      try {
        input = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        throw new SqsError('com.amazon.coral.service#SerializationException', 'SerializationException', 'Request body is not valid JSON.');
      }
      if (!isRecord(input)) {
        throw new SqsError('com.amazon.coral.service#SerializationException', 'SerializationException', 'Request body must be a JSON object.');
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const pathMatch = new RegExp(`^/${ACCOUNT_ID}/([^/]+)/?$`).exec(path);
      const result = await this.engine.dispatch(action, input, {
        pathQueueName: pathMatch?.[1] !== undefined ? decodeURIComponent(pathMatch[1]) : undefined,
        signal: requestController.signal,
      });
      this.send(res, 200, requestId, result);
    } catch (err) {
      if (err instanceof SqsError) {
        this.send(res, err.status, requestId, { __type: errorTypeName(err.type), message: err.message }, `${err.queryCode};${err.fault}`);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`local-sqs: internal error: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
        this.send(res, 500, requestId, { __type: 'com.amazon.coral.service#InternalFailure', message }, 'InternalFailure;Receiver');
      }
    } finally {
      this.stopController.signal.removeEventListener('abort', abortRequest);
    }
  }

  private send(res: ServerResponse, status: number, requestId: string, body: object, queryError?: string): void {
    if (res.headersSent || res.destroyed) return;
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': requestId,
    };
    if (queryError) headers['x-amzn-query-error'] = queryError;
    res.writeHead(status, headers);
    res.end(payload);
  }
}
