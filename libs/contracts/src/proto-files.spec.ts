import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { protoRoot, WORKER_PROTO_FILE } from './proto-files';

describe('protoRoot', () => {
  it('finds the worker proto from the workspace', () => {
    expect(existsSync(join(protoRoot(), WORKER_PROTO_FILE))).toBe(true);
  });
});
