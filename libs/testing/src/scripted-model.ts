import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A stand-in for the OpenAI Responses API as the real codex CLI (0.163) speaks it over HTTP: `POST
 * /v1/responses` answered with server-sent events. Not a model: every response comes from a script.
 *
 * Point codex at it with a model provider that turns WebSockets off (see docs/codex.md, "Transport"): this
 * server answers an upgrade request with 426, and codex would spend five reconnects on it first.
 */

export interface ScriptedUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

/**
 * One output item: a shell command codex runs through its exec_command tool, or an assistant message. A command
 * that runs longer than `yieldTimeMs` (codex's default: 10 s) is left running while codex answers the model.
 */
export type ScriptedItem =
  | { exec: string; yieldTimeMs?: number }
  /** Any other tool call, e.g. write_stdin to wait on a command codex left running ({ session_id, chars, yield_time_ms }). */
  | { call: string; arguments: Record<string, unknown> }
  | { message: string };

/** One model response: what codex gets back for one POST. */
export type ScriptedResponse =
  | {
      items: ScriptedItem[];
      /** Reported in response.completed; defaults to 100 input (0 cached), 10 output tokens. */
      usage?: Partial<ScriptedUsage>;
    }
  /** An HTTP error instead: codex retries a 5xx (and a 403) with "Reconnecting... n/5" notices, not a 400. */
  | { fail: { status: number; message: string } };

/** A fixed response, or one computed from the request (for instance from the prompt or a command's output). */
export type ScriptedTurn = ScriptedResponse | ((request: ScriptedRequest) => ScriptedResponse);

export interface ScriptedRequest {
  method: string;
  /** Path and query, e.g. /v1/responses. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body as text. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
}

export interface ScriptedModel {
  /** The provider base URL, e.g. http://127.0.0.1:41234/v1. */
  baseUrl: string;
  /** Every request received, in order, including refused ones. */
  requests: ScriptedRequest[];
  /** How many scripted turns are still unused. */
  remaining(): number;
  close(): Promise<void>;
}

export interface ScriptedModelOptions {
  /** When set, a request without `Authorization: Bearer <apiKey>` gets a 401 and uses no turn. */
  apiKey?: string;
}

const DEFAULT_USAGE: ScriptedUsage = { inputTokens: 100, cachedInputTokens: 0, outputTokens: 10 };
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/**
 * Starts the server on 127.0.0.1 with a free port. Each POST to /v1/responses consumes the next turn; when
 * the script is used up it answers 400, which codex reports as a failed turn at once (no retries).
 */
export async function startScriptedModel(turns: ScriptedTurn[], options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const queue = [...turns];
  const requests: ScriptedRequest[] = [];
  let responseCount = 0;

  const server = createServer((req, res) => {
    void readRequest(req).then(
      (request) => {
        requests.push(request);
        if (options.apiKey !== undefined && request.headers['authorization'] !== `Bearer ${options.apiKey}`) {
          return sendError(res, 401, 'scripted model: wrong or missing API key');
        }
        if (request.method !== 'POST' || !request.url.startsWith('/v1/responses')) {
          return sendError(res, 404, `scripted model: no route for ${request.method} ${request.url}`);
        }
        const turn = queue.shift();
        if (turn === undefined) return sendError(res, 400, 'scripted model: the script is used up');
        responseCount++;
        let response: ScriptedResponse;
        try {
          response = typeof turn === 'function' ? turn(request) : turn;
        } catch (error) {
          return sendError(res, 400, `scripted model: the turn threw: ${error instanceof Error ? error.message : String(error)}`);
        }
        if ('fail' in response) return sendError(res, response.fail.status, response.fail.message);
        sendResponse(res, `resp_scripted_${responseCount}`, response);
      },
      () => sendError(res, 413, 'scripted model: request body too large'),
    );
  });
  // codex tries a WebSocket first unless its provider says otherwise; say no quickly and plainly.
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    remaining: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The output of every exec_command call codex sent back in this request (its function_call_output items). */
export function toolOutputs(request: ScriptedRequest): string[] {
  return inputItems(request)
    .filter((item) => item['type'] === 'function_call_output')
    .map((item) => {
      const output = item['output'];
      if (typeof output === 'string') return output;
      return JSON.stringify(output);
    });
}

/** The text of every user message in this request's input, oldest first. */
export function userTexts(request: ScriptedRequest): string[] {
  return inputItems(request)
    .filter((item) => item['type'] === 'message' && item['role'] === 'user')
    .flatMap((item) => {
      const content = item['content'];
      if (!Array.isArray(content)) return [];
      return content.flatMap((part: unknown) => (isRecord(part) && typeof part['text'] === 'string' ? [part['text']] : []));
    });
}

function inputItems(request: ScriptedRequest): Array<Record<string, unknown>> {
  const input = isRecord(request.body) ? request.body['input'] : undefined;
  return Array.isArray(input) ? input.filter(isRecord) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readRequest(req: IncomingMessage): Promise<ScriptedRequest> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes > MAX_REQUEST_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, text, body };
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type: 'scripted_model_error' } }));
}

function sendResponse(res: ServerResponse, id: string, response: { items: ScriptedItem[]; usage?: Partial<ScriptedUsage> }): void {
  const usage = { ...DEFAULT_USAGE, ...response.usage };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: Record<string, unknown> & { type: string }): void => {
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  send({ type: 'response.created', response: { id } });
  response.items.forEach((item, index) => {
    send({ type: 'response.output_item.done', output_index: index, item: outputItem(id, index, item) });
  });
  send({
    type: 'response.completed',
    response: {
      id,
      usage: {
        input_tokens: usage.inputTokens,
        input_tokens_details: { cached_tokens: usage.cachedInputTokens },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
    },
  });
  res.end();
}

function outputItem(responseId: string, index: number, item: ScriptedItem): Record<string, unknown> {
  if ('call' in item) {
    return { type: 'function_call', id: `fc_${responseId}_${index}`, call_id: `call_${responseId}_${index}`, name: item.call, arguments: JSON.stringify(item.arguments) };
  }
  if ('exec' in item) {
    return { type: 'function_call', id: `fc_${responseId}_${index}`, call_id: `call_${responseId}_${index}`, name: 'exec_command', arguments: JSON.stringify({ cmd: item.exec, ...(item.yieldTimeMs === undefined ? {} : { yield_time_ms: item.yieldTimeMs }) }) };
  }
  return { type: 'message', id: `msg_${responseId}_${index}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: item.message, annotations: [] }] };
}
