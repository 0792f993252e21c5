import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const WORKER_PROTO_PACKAGE = 'agentconductor.worker.v1';
export const SCHEDULER_PROTO_PACKAGE = 'agentconductor.scheduler.v1';
export const WORKER_PROTO_FILE = 'agentconductor/worker/v1/worker.proto';
export const SCHEDULER_PROTO_FILE = 'agentconductor/scheduler/v1/scheduler.proto';

/**
 * Where the .proto files are at run time: copied next to the bundle by the
 * app builds (dist/apps/<app>/proto), or the workspace's proto/ in tests and
 * tools. PROTO_DIR overrides both.
 */
export function protoRoot(): string {
  const candidates = [
    process.env['PROTO_DIR'],
    join(__dirname, 'proto'),
    resolve(__dirname, '../../../proto'),
    resolve(process.cwd(), 'proto'),
  ].filter((candidate): candidate is string => typeof candidate === 'string' && candidate.length > 0);
  const found = candidates.find((dir) => existsSync(join(dir, WORKER_PROTO_FILE)));
  if (!found) {
    throw new Error(`Cannot find the .proto files; looked in ${candidates.join(', ')}. Set PROTO_DIR.`);
  }
  return found;
}

/** Options for @grpc/proto-loader that match the ts-proto generated types. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
} as const;
