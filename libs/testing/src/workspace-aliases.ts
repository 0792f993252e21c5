import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/*
 * Jest resolves `@agent-conductor/*` inside test sandboxes, but globalSetup
 * runs on Node's own resolver, which knows nothing of tsconfig paths. This
 * teaches it the workspace aliases for the lifetime of the jest process.
 */

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

const workspaceRoot = resolve(__dirname, '../../..');
let registered = false;

export function registerWorkspaceAliases(): void {
  if (registered) {
    return;
  }
  registered = true;
  const tsconfig = JSON.parse(readFileSync(resolve(workspaceRoot, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions?: { paths?: Record<string, string[]> };
  };
  const aliases = new Map<string, string>();
  for (const [alias, targets] of Object.entries(tsconfig.compilerOptions?.paths ?? {})) {
    const target = targets[0];
    if (target && !alias.includes('*')) {
      aliases.set(alias, resolve(workspaceRoot, target));
    }
  }
  const moduleWithInternals = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = moduleWithInternals._resolveFilename;
  moduleWithInternals._resolveFilename = function resolveWithAliases(request, parent, isMain, options) {
    return original.call(this, aliases.get(request) ?? request, parent, isMain, options);
  };
}
