module.exports = {
  displayName: 'cli-args',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // test/clis.spec.ts starts every CLI as a child process (tsx compiles each on start) on a shared machine.
  testTimeout: 120000,
};
