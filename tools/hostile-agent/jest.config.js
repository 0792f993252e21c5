module.exports = {
  displayName: 'hostile-agent',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
  // Each file starts the built apps and a hostile worker as processes: one file at a time.
  maxWorkers: 1,
  testTimeout: 600000,
};
