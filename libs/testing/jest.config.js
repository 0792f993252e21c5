module.exports = {
  displayName: 'testing',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  globalSetup: '<rootDir>/src/jest-global-setup.ts',
  globalTeardown: '<rootDir>/src/jest-global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 1,
};
