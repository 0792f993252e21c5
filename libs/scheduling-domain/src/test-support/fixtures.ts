// Test-only: reads the verbatim queue bodies in ../test-fixtures. The library itself never does I/O.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURE_DIR = join(__dirname, '..', 'test-fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURE_DIR, name), 'utf8');
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A fixture parsed and edited, then serialised again: for "the real message, but with X broken". */
export function editedFixture(name: string, edit: (body: Record<string, unknown>) => void): string {
  const body = JSON.parse(fixture(name)) as Record<string, unknown>;
  edit(body);
  return JSON.stringify(body);
}
