import { resolve } from 'node:path';

/** The checkout this file belongs to: a copy of the repository runs its own dist/ and .dev/. */
export const WORKSPACE = resolve(__dirname, '../../..');
