export * from './sample-remote';
export * from './dev-postgres';
