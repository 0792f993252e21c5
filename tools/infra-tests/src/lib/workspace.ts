import { join, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

export function fromRoot(...parts: string[]): string {
  return join(WORKSPACE_ROOT, ...parts);
}

export const APPS = ['conductor', 'scheduler', 'worker'] as const;
export type AppName = (typeof APPS)[number];
