// Bundles the operator console into static files the conductor serves (apps/conductor/src/console-ui):
// <out>/index.html, login.html, assets/{app.js,login.js,console.css}. No CDN, no inline script or style,
// so the conductor's Content-Security-Policy can forbid both.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../dist/apps/console-ui'));

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/app.ts'), login: join(here, 'src/login.ts') },
  outdir: join(out, 'assets'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'login.html']) await copyFile(join(here, 'static', file), join(out, file));
await copyFile(join(here, 'static/console.css'), join(out, 'assets/console.css'));
