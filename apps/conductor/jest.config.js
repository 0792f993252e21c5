module.exports = {
  displayName: 'conductor',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest-global-teardown.ts',
  // The files share one database and the gate counts every worker in it, so they run one at a time.
  maxWorkers: 1,
  testTimeout: 60000,
};
