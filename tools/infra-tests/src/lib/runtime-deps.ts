import { builtinModules } from 'node:module';

export interface GeneratedPackageJson {
  name?: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

const BUILTINS = new Set(builtinModules);

/** The package a bare specifier belongs to: `@scope/pkg/deep/file.js` → `@scope/pkg`. */
export function packageNameOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
  if (name === '' || BUILTINS.has(name)) return null;
  return name;
}

/** Packages a webpack bundle loads at run time (its externals), in first-seen order. */
export function requiredPackages(bundle: string): string[] {
  const names = new Set<string>();
  for (const match of bundle.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
    const name = packageNameOf(match[1] ?? '');
    if (name) names.add(name);
  }
  return [...names];
}

export function missingDependencies(bundle: string, packageJson: GeneratedPackageJson): string[] {
  const declared = packageJson.dependencies ?? {};
  return requiredPackages(bundle).filter((name) => !(name in declared));
}

/**
 * Adds every package the bundle requires but the generated package.json lacks,
 * at the version installed in the workspace (what the bundle was built and
 * tested against). `installedVersion` returns null for a package that is not
 * installed, which is an error: the image could never satisfy it.
 */
export function completeDependencies(
  bundle: string,
  packageJson: GeneratedPackageJson,
  installedVersion: (name: string) => string | null,
): { packageJson: GeneratedPackageJson; added: Record<string, string> } {
  const added: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const name of missingDependencies(bundle, packageJson)) {
    const version = installedVersion(name);
    if (version === null) unresolved.push(name);
    else added[name] = version;
  }
  if (unresolved.length > 0) {
    throw new Error(`the bundle requires packages that are not installed in the workspace: ${unresolved.join(', ')}`);
  }
  const dependencies = Object.fromEntries(
    Object.entries({ ...(packageJson.dependencies ?? {}), ...added }).sort(([a], [b]) => a.localeCompare(b)),
  );
  return { packageJson: { ...packageJson, dependencies }, added };
}
