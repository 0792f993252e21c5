import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConductorConfig } from '../config/env.validators';
import { GITHUB_WEBHOOK_HTTP_STATUS } from './github-webhook-error';

export const GITHUB_WEBHOOK_PATH = '/webhooks/github';

/** The request as the body reader leaves it: the exact bytes GitHub signed. */
export interface RequestWithRawBody extends IncomingMessage {
  body?: unknown;
}

type Next = (error?: unknown) => void;

/**
 * Reads the webhook's body as raw bytes, up to the configured size, before Nest's JSON parser runs: the signature
 * covers the bytes as sent, which a parse and re-serialisation would not reproduce. Registered in bootstrap, since
 * module middleware runs after the global parsers. The parser leaves a fully read request alone.
 */
export function githubWebhookBodyReader(config: Pick<ConductorConfig, 'githubWebhookSecret' | 'githubWebhookMaxBytes'>) {
  return (request: RequestWithRawBody, response: ServerResponse, next: Next): void => {
    // Off: the route answers 404 without reading anything.
    if (!config.githubWebhookSecret || request.method !== 'POST') {
      next();
      return;
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > config.githubWebhookMaxBytes) {
      tooLarge(request, response, config.githubWebhookMaxBytes);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > config.githubWebhookMaxBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge(request, response, config.githubWebhookMaxBytes);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      request.body = Buffer.concat(chunks);
      next();
    });
    request.on('error', (error) => {
      if (!refused) next(error);
    });
  };
}

function tooLarge(request: IncomingMessage, response: ServerResponse, maxBytes: number): void {
  const status = GITHUB_WEBHOOK_HTTP_STATUS.TOO_LARGE;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  response.end(JSON.stringify({ statusCode: status, message: `webhook body is larger than ${maxBytes} bytes` }));
  // Drain what the sender still writes, then the socket closes with the response (connection: close).
  request.resume();
}
