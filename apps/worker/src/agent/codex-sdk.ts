import type * as CodexSdkModule from '@openai/codex-sdk';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type CodexSdk = typeof CodexSdkModule;

const SDK_SPECIFIER = '@openai/codex-sdk';

/**
 * A real `import()` that neither tsc (module: commonjs rewrites import() to require()) nor webpack (it would
 * turn it into a require() of an externalised package) gets to see. The SDK is ESM-only and its package
 * exports only an "import" condition, so require() cannot load it in Node.
 */
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let loaded: Promise<CodexSdk> | undefined;

/** Loads @openai/codex-sdk once per process. */
export function loadCodexSdk(): Promise<CodexSdk> {
  loaded ??= importSdk().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

async function importSdk(): Promise<CodexSdk> {
  try {
    return (await nativeImport(SDK_SPECIFIER)) as CodexSdk;
  } catch (error) {
    if (!isVmSandboxRefusal(error)) throw error;
    // Only jest's vm sandbox gets here: it refuses import() but transforms the SDK to CommonJS
    // (see transformIgnorePatterns and moduleNameMapper in apps/worker/jest.config.js). The literal
    // require also lets webpack list the SDK in the generated package.json.
    return require('@openai/codex-sdk') as CodexSdk;
  }
}

/** ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING(_FLAG): a vm context without an import() hook, as jest's is. */
function isVmSandboxRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING');
}

/** Where the SDK's own lookup finds codex: the platform package @openai/codex depends on. */
const PLATFORM_PACKAGES: Partial<Record<string, { name: string; triple: string }>> = {
  'linux-x64': { name: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { name: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
};

/**
 * The codex binary the SDK would start on its own. The worker must name it when it starts codex through the
 * wrapper that drops to the agent's uid, because a codexPathOverride replaces the SDK's lookup. Resolved from the
 * working directory (the workspace, or /app in the image), as the bundle has no node_modules of its own.
 */
export function bundledCodexPath(cwd: string = process.cwd()): string | undefined {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platform) return undefined;
  try {
    const fromCwd = createRequire(join(cwd, 'package.json'));
    const fromCodex = createRequire(fromCwd.resolve('@openai/codex/package.json'));
    const root = join(dirname(fromCodex.resolve(`${platform.name}/package.json`)), 'vendor', platform.triple);
    return [join(root, 'bin', 'codex'), join(root, 'codex', 'codex')].find((candidate) => existsSync(candidate));
  } catch {
    return undefined;
  }
}
