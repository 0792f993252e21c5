import { parse } from '@cdktf/hcl2json';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What hcl2json returns: HCL blocks as nested objects and lists, expressions as "${…}" strings. */
export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };
export type HclObject = { [key: string]: HclValue };

export interface TerraformModule {
  files: string[];
  variables: Map<string, HclObject>;
  locals: Map<string, HclValue>;
  /** `type.name` → body */
  resources: Map<string, HclObject>;
  /** `type.name` → body (without the `data.` prefix) */
  data: Map<string, HclObject>;
  modules: Map<string, HclObject>;
  outputs: Map<string, HclObject>;
  /** Every expression string, with the file it came from. */
  expressions: Array<{ file: string; expression: string }>;
}

export type Reference =
  | { kind: 'var' | 'local' | 'module'; name: string; text: string }
  | { kind: 'resource' | 'data'; name: string; text: string };

function isObject(value: HclValue | undefined): value is HclObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json renders each block as a one-element list; labelled blocks nest by label. */
function firstBody(value: HclValue | undefined): HclObject {
  const body = Array.isArray(value) ? value[0] : value;
  return isObject(body) ? body : {};
}

export async function parseTerraformFiles(files: Record<string, string>): Promise<TerraformModule> {
  const module: TerraformModule = {
    files: Object.keys(files).sort(),
    variables: new Map(),
    locals: new Map(),
    resources: new Map(),
    data: new Map(),
    modules: new Map(),
    outputs: new Map(),
    expressions: [],
  };
  for (const file of module.files) {
    const json = (await parse(file, files[file] ?? '')) as HclObject;
    const addLabelled = (target: Map<string, HclObject>, block: HclValue | undefined, file: string, kind: string): void => {
      if (!isObject(block)) return;
      for (const [name, body] of Object.entries(block)) {
        if (target.has(name)) throw new Error(`${file}: ${kind} ${name} is declared twice`);
        target.set(name, firstBody(body));
      }
    };
    const addTyped = (target: Map<string, HclObject>, block: HclValue | undefined, kind: string): void => {
      if (!isObject(block)) return;
      for (const [type, byName] of Object.entries(block)) {
        if (!isObject(byName)) continue;
        for (const [name, body] of Object.entries(byName)) {
          const key = `${type}.${name}`;
          if (target.has(key)) throw new Error(`${file}: ${kind} ${key} is declared twice`);
          target.set(key, firstBody(body));
        }
      }
    };
    addLabelled(module.variables, json['variable'], file, 'variable');
    addLabelled(module.modules, json['module'], file, 'module');
    addLabelled(module.outputs, json['output'], file, 'output');
    addTyped(module.resources, json['resource'], 'resource');
    addTyped(module.data, json['data'], 'data');
    const locals = json['locals'];
    for (const block of Array.isArray(locals) ? locals : []) {
      if (!isObject(block)) continue;
      for (const [name, value] of Object.entries(block)) {
        if (module.locals.has(name)) throw new Error(`${file}: local ${name} is declared twice`);
        module.locals.set(name, value);
      }
    }
    for (const expression of stringsIn(json)) module.expressions.push({ file, expression });
  }
  return module;
}

export async function loadTerraformDir(dir: string): Promise<TerraformModule> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.tf'))) {
    files[name] = readFileSync(join(dir, name), 'utf8');
  }
  return parseTerraformFiles(files);
}

export function stringsIn(value: HclValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isObject(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The `${…}` parts of a template string, nested braces and quoted strings included. */
export function interpolations(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while ((i = text.indexOf('${', i)) !== -1) {
    let depth = 1;
    let j = i + 2;
    let quote = false;
    for (; j < text.length && depth > 0; j++) {
      const char = text[j];
      if (quote) {
        if (char === '\\') j++;
        else if (char === '"') quote = false;
      } else if (char === '"') quote = true;
      else if (char === '{') depth++;
      else if (char === '}') depth--;
    }
    out.push(text.slice(i + 2, j - 1));
    i = j;
  }
  return out;
}

const RESOURCE_TYPE = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;

export function referencesIn(text: string): Reference[] {
  const refs: Reference[] = [];
  for (const expression of interpolations(text)) {
    for (const match of expression.matchAll(/(?<![\w.-])([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?/g)) {
      const [, head = '', second = '', third] = match;
      if (head === 'var' || head === 'local' || head === 'module') refs.push({ kind: head, name: second, text: `${head}.${second}` });
      else if (head === 'data' && third) refs.push({ kind: 'data', name: `${second}.${third}`, text: `data.${second}.${third}` });
      else if (RESOURCE_TYPE.test(head)) refs.push({ kind: 'resource', name: `${head}.${second}`, text: `${head}.${second}` });
    }
  }
  return refs;
}

/** Every reference that names nothing declared in the module, as "file: text" lines. */
export function unresolvedReferences(module: TerraformModule): string[] {
  const problems: string[] = [];
  for (const { file, expression } of module.expressions) {
    for (const ref of referencesIn(expression)) {
      const declared =
        ref.kind === 'var'
          ? module.variables.has(ref.name)
          : ref.kind === 'local'
            ? module.locals.has(ref.name)
            : ref.kind === 'module'
              ? module.modules.has(ref.name)
              : ref.kind === 'data'
                ? module.data.has(ref.name)
                : module.resources.has(ref.name);
      if (!declared) problems.push(`${file}: ${ref.text}`);
    }
  }
  return [...new Set(problems)];
}

/** Replaces `${local.x}` whole-expression strings by the local's value, recursively, for policy checks. */
export function expandLocals(module: TerraformModule, value: string, depth = 0): string {
  if (depth > 10) return value;
  return value.replace(/\$\{local\.([A-Za-z_][\w-]*)\}/g, (whole, name: string) => {
    const local = module.locals.get(name);
    return typeof local === 'string' ? expandLocals(module, local, depth + 1) : whole;
  });
}

export function blocks(body: HclObject, key: string): HclObject[] {
  const value = body[key];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(isObject);
}

export function stringList(value: HclValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => String(item));
}
