module.exports = {
  displayName: 'dev-stack',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // `npm run dev` from a fresh copy builds three apps before it serves: minutes on a busy 2-core machine.
  testTimeout: 600000,
  // The cold starts each build three apps: one file at a time on a 2-core machine.
  maxWorkers: 1,
};
