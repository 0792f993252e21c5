import { builtinModules } from 'node:module';
import baseConfig from '../../eslint.config.mjs';

// The root config bans fs/child_process for type:domain through @nx/enforce-module-boundaries, but that rule
// only checks npm packages: Node built-ins pass unreported. This lib must stay pure, so ban them all here.
const nodeBuiltins = builtinModules
  .filter((name) => !name.startsWith('_'))
  .flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`]));
const message = 'scheduling-domain is pure: no Node built-ins (no I/O). Tests may use them; the library may not.';

export default [
  ...baseConfig,
  {
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: nodeBuiltins.map((name) => ({ name, message })) },
      ],
    },
  },
];
