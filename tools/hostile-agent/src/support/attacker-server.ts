import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface AttackerRequest {
  at: number;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The "attacker's" server on loopback: whatever the hostile agent (or a trap it set) manages to send out. It
 * answers every request, proxy CONNECTs included, and records all of it, raw bytes too, for the canary scan.
 */
export class AttackerServer {
  readonly requests: AttackerRequest[] = [];
  /** Everything any connection sent, byte for byte: covers what the HTTP parser would not make a request of. */
  readonly raw: Buffer[] = [];
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        this.requests.push({ at: Date.now(), method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('ok\n');
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => this.raw.push(chunk));
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('connect', (request: IncomingMessage, socket: Socket) => {
      this.requests.push({ at: Date.now(), method: 'CONNECT', url: request.url ?? '', headers: request.headers, body: Buffer.alloc(0) });
      socket.on('data', (chunk: Buffer) => this.raw.push(chunk));
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every byte received, as one buffer, for scanning. */
  everything(): Buffer {
    return Buffer.concat([...this.raw, ...this.requests.map((r) => Buffer.from(JSON.stringify({ ...r, body: r.body.toString('latin1') })))]);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
