#!/usr/bin/env node
// `prisma generate` needs no schema engine, but the CLI insists on locating one
// and would otherwise try to download it. Any existing file satisfies the check.
const { spawnSync } = require('node:child_process');

const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
const result = spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
