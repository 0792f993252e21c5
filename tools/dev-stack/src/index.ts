export * from './sample-remote';
