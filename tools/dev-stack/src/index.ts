export * from './sample-remote';
export * from './local-stack';
export * from './cloudwatch-fixture';
export * from './fixture-routing';
