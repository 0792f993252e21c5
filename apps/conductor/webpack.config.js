const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('node:path');

module.exports = {
  output: { path: join(__dirname, '../../dist/apps/conductor') },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      // Uploaded archives are extracted in a worker thread (src/results/off-loop-extraction.ts), which loads this file.
      // db-roles.js is the one-shot db-roles task (src/db-roles.ts).
      additionalEntryPoints: [
        { entryName: 'archive-extraction.worker', entryPath: './src/results/archive-extraction.worker.ts' },
        { entryName: 'db-roles', entryPath: './src/db-roles.ts' },
      ],
      tsConfig: './tsconfig.app.json',
      // The operator console (apps/console-ui, built first: an implicit dependency) is served from console/.
      assets: [
        { input: '../../proto', glob: '**/*.proto', output: 'proto' },
        { input: '../../dist/apps/console-ui', glob: '**/*', output: 'console' },
      ],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
    }),
  ],
};
