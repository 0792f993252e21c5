export * from './sample-remote';
export * from './local-stack';
