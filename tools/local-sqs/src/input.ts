import { sqsErrors } from './errors';

/** A decoded JSON request body. Readers below validate shapes the way SQS does, so bad input is a 400, never a crash. */
export type Input = Record<string, unknown>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optString(input: Input, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw sqsErrors.invalidParameterValue(`Value for parameter ${key} must be a string.`);
  return value;
}

export function reqString(input: Input, key: string): string {
  const value = optString(input, key);
  if (value === undefined) throw sqsErrors.missingParameter(key);
  return value;
}

export function optInt(input: Input, key: string, min: number, max: number): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw sqsErrors.invalidParameterValue(`Value ${String(value)} for parameter ${key} is invalid. Reason: must be between ${min} and ${max}.`);
  }
  return n;
}

export function reqInt(input: Input, key: string, min: number, max: number): number {
  const value = optInt(input, key, min, max);
  if (value === undefined) throw sqsErrors.missingParameter(key);
  return value;
}

export function optStringArray(input: Input, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw sqsErrors.invalidParameterValue(`Value for parameter ${key} must be a list of strings.`);
  }
  return value;
}

export function optStringMap(input: Input, key: string): Record<string, string> | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw sqsErrors.invalidParameterValue(`Value for parameter ${key} must be a map.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw sqsErrors.invalidAttributeValue(`Value for attribute ${k} must be a string.`);
    out[k] = v;
  }
  return out;
}

export function reqEntries(input: Input): Input[] {
  const value = input['Entries'];
  if (value === undefined || value === null) throw sqsErrors.missingParameter('Entries');
  if (!Array.isArray(value)) throw sqsErrors.invalidParameterValue('Entries must be a list.');
  if (value.length === 0) throw sqsErrors.emptyBatchRequest();
  if (value.length > 10) throw sqsErrors.tooManyEntries();
  const entries: Input[] = [];
  const ids = new Set<string>();
  for (const entry of value) {
    if (!isRecord(entry)) throw sqsErrors.invalidParameterValue('Each entry must be an object.');
    const id = reqString(entry, 'Id');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) throw sqsErrors.invalidBatchEntryId();
    if (ids.has(id)) throw sqsErrors.batchEntryIdsNotDistinct();
    ids.add(id);
    entries.push(entry);
  }
  return entries;
}
