import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { UsageMeter, type MeteredUsage } from './usage-meter';

export const DEFAULT_UPSTREAM_BASE_URL = 'https://api.openai.com/v1';
/** The path the agent's codex sees as its provider base URL; everything below it is forwarded. */
const PROXY_BASE_PATH = '/v1';
/** A whole codex thread travels in every request; a long one is a few MB. Far above that is not codex. */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization', 'accept-encoding']);

export interface ModelProxyOptions {
  /** The real model API, e.g. https://api.openai.com/v1. */
  upstreamBaseUrl: string;
  /** Read on every forwarded request, so the key lives in the worker only and a rotated key is picked up. */
  readApiKey: () => string | undefined;
  /** Input plus output tokens the job may spend; undefined: no budget. */
  maxTokens: number | undefined;
  maxRequestBytes?: number;
}

/**
 * A loopback proxy to the model API for one job. The agent's codex gets its URL and a per-run key that is worth
 * nothing elsewhere; the proxy checks that key, swaps in the real one, streams the answer back unchanged and
 * meters the usage each response reports. Once the job has spent its budget it refuses every further request
 * with a `budget exceeded` error, which codex reports as a failed turn without retrying (HTTP 400).
 */
export class ModelProxy {
  /** Lives only in this process and in the agent's codex environment; the upstream never sees it. */
  readonly runKey = `acp-run-${randomBytes(24).toString('hex')}`;
  private readonly meter = new UsageMeter();
  private server: Server | undefined;
  private refusal: string | undefined;
  private port = 0;
  private upgrades = 0;

  constructor(private readonly options: ModelProxyOptions) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    // codex is configured for HTTP only (supports_websockets = false). A codex that tries anyway takes a 426 as
    // "no WebSockets here" and falls back to HTTP at once; a dropped connection would cost it five retries.
    server.on('upgrade', (_req, socket) => {
      this.upgrades++;
      socket.end('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The provider base URL to hand the agent's codex. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${PROXY_BASE_PATH}`;
  }

  usage(): MeteredUsage {
    return this.meter.total();
  }

  /** WebSocket upgrade requests turned down: none, while codex is configured as it should be. */
  refusedUpgrades(): number {
    return this.upgrades;
  }

  /** The `budget exceeded` error, once the job has spent its budget (whether or not a request was refused yet). */
  budgetSpent(): string | undefined {
    const max = this.options.maxTokens;
    if (max === undefined) return undefined;
    const used = this.meter.total().totalTokens;
    return used < max ? undefined : `budget exceeded: the job used ${used} tokens of its budget of ${max}`;
  }

  /** The error the proxy refused a request with because the budget was spent; undefined until it did. */
  budgetRefusal(): string | undefined {
    return this.refusal;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.hasRunKey(req.headers)) {
      req.resume();
      return sendError(res, 401, 'invalid_api_key', 'model proxy: wrong or missing API key');
    }
    const url = req.url ?? '/';
    if (url !== PROXY_BASE_PATH && !url.startsWith(`${PROXY_BASE_PATH}/`)) {
      req.resume();
      return sendError(res, 404, 'not_found', `model proxy: only ${PROXY_BASE_PATH}/… is forwarded`);
    }
    const budgetError = this.budgetSpent();
    if (budgetError !== undefined) {
      req.resume();
      this.refusal ??= budgetError;
      return sendError(res, 400, 'budget_exceeded', budgetError);
    }
    const maxBytes = this.options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      req.resume();
      return sendError(res, 413, 'request_too_large', `model proxy: request body over ${maxBytes} bytes`);
    }
    const apiKey = this.options.readApiKey();
    if (apiKey === undefined || apiKey === '') return sendError(res, 500, 'no_upstream_key', 'model proxy: the worker has no model API key (OPENAI_API_KEY)');
    this.forward(req, res, url.slice(PROXY_BASE_PATH.length), apiKey, maxBytes);
  }

  private forward(req: IncomingMessage, res: ServerResponse, path: string, apiKey: string, maxBytes: number): void {
    const target = new URL(`${this.options.upstreamBaseUrl.replace(/\/+$/, '')}${path}`);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['authorization'] = `Bearer ${apiKey}`;
    // Metering reads the stream as it passes; a compressed one would have to be inflated first.
    headers['accept-encoding'] = 'identity';
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: req.method, headers }, (answer) => {
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') responseHeaders[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, responseHeaders);
      const metering = this.meter.response(String(answer.headers['content-type'] ?? ''));
      answer.on('data', (chunk: Buffer) => metering.push(chunk));
      answer.on('end', () => metering.end());
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) sendError(res, 502, 'upstream_unreachable', `model proxy: the model API did not answer: ${error.message}`);
      else if (!res.writableEnded) res.destroy();
    });
    res.on('close', () => upstream.destroy());
    const limit = new ByteLimit(maxBytes);
    limit.on('error', () => {
      if (!res.headersSent) {
        // The rest of the body is not read: the connection goes once the answer is out.
        res.setHeader('connection', 'close');
        res.on('finish', () => req.destroy());
        sendError(res, 413, 'request_too_large', `model proxy: request body over ${maxBytes} bytes`);
      }
      upstream.destroy();
    });
    req.pipe(limit).pipe(upstream);
  }

  private hasRunKey(headers: IncomingHttpHeaders): boolean {
    const given = Buffer.from(headers['authorization'] ?? '');
    const expected = Buffer.from(`Bearer ${this.runKey}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: code, code } }));
}

/** Passes bytes through until more than max have gone by, then fails. */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) callback(new Error(`request body over ${this.max} bytes`));
    else callback(null, chunk);
  }
}
