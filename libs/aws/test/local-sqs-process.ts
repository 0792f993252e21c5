import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export interface LocalSqsProcess {
  endpoint: string;
  stop(): Promise<void>;
}

const workspaceRoot = resolve(__dirname, '../../..');

/**
 * Runs tools/local-sqs's CLI as a child process. The aws lib may not import the tool (module boundaries:
 * type:infra must not depend on type:tool), and a separate process also makes "endpoint down" real.
 */
export function startLocalSqs(port = 0): Promise<LocalSqsProcess> {
  const child = spawn(join(workspaceRoot, 'node_modules/.bin/tsx'), ['tools/local-sqs/src/main.ts', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: workspaceRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolveStart, rejectStart) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      rejectStart(new Error(`local-sqs did not start within 30 s:\n${output}`));
    }, 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /local-sqs listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveStart({ endpoint: match[1], stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`local-sqs exited (code ${String(code)}) before listening:\n${output}`));
    });
  });
}

/** A port nothing listens on (it was free a moment ago), for "endpoint down". */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
