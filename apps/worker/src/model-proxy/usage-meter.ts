import { StringDecoder } from 'node:string_decoder';

export interface MeteredUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  /** input + output: what the budget counts. Cached input is part of the input. */
  totalTokens: number;
  /** Responses that reported usage. */
  responses: number;
}

/** A response.completed event carries the whole response; beyond this a line is not metered, only passed on. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** A JSON (non-streaming) answer is copied for metering up to this size. */
const MAX_JSON_CHARS = 4 * 1024 * 1024;
/** Responses API events whose `response` carries the final usage. */
const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed', 'response.done']);

export interface ResponseMetering {
  push(chunk: Buffer): void;
  end(): void;
}

/**
 * Adds up the usage the model API reports, reading each answer as it streams past: the final event of a
 * server-sent-event stream, or the `usage` of a JSON answer.
 */
export class UsageMeter {
  private readonly sum: MeteredUsage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, totalTokens: 0, responses: 0 };

  total(): MeteredUsage {
    return { ...this.sum };
  }

  response(contentType: string): ResponseMetering {
    return contentType.includes('text/event-stream') ? this.sse() : contentType.includes('json') ? this.json() : { push: () => undefined, end: () => undefined };
  }

  /** Records one `usage` object of the Responses API; anything else is ignored. */
  record(usage: unknown): void {
    if (!isRecord(usage)) return;
    const input = count(usage['input_tokens']);
    const output = count(usage['output_tokens']);
    const details = usage['input_tokens_details'];
    const cached = isRecord(details) ? count(details['cached_tokens']) : 0;
    this.sum.inputTokens += input;
    this.sum.cachedInputTokens += cached;
    this.sum.outputTokens += output;
    this.sum.totalTokens += input + output;
    this.sum.responses++;
  }

  private sse(): ResponseMetering {
    const decoder = new StringDecoder('utf8');
    let line = '';
    let overlong = false;
    const take = (text: string): void => {
      let start = 0;
      for (let newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
        if (!overlong) this.sseLine(line + text.slice(start, newline));
        line = '';
        overlong = false;
        start = newline + 1;
      }
      if (overlong) return;
      line += text.slice(start);
      if (line.length > MAX_LINE_CHARS) {
        line = '';
        overlong = true;
      }
    };
    return {
      push: (chunk) => take(decoder.write(chunk)),
      end: () => take(`${decoder.end()}\n`),
    };
  }

  private sseLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith('data:')) return;
    const event = parseJson(line.slice(5).trim());
    if (!isRecord(event) || typeof event['type'] !== 'string' || !FINAL_EVENTS.has(event['type'])) return;
    const response = event['response'];
    if (isRecord(response)) this.record(response['usage']);
  }

  private json(): ResponseMetering {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let overlong = false;
    return {
      push: (chunk) => {
        if (overlong) return;
        text += decoder.write(chunk);
        if (text.length > MAX_JSON_CHARS) {
          overlong = true;
          text = '';
        }
      },
      end: () => {
        if (overlong) return;
        const body = parseJson(text + decoder.end());
        if (isRecord(body)) this.record(body['usage']);
      },
    };
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
