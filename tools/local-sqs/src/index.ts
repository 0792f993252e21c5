export { LocalSqsServer, type LocalSqsServerOptions } from './server';
export { ACCOUNT_ID, type RedrivePolicy } from './engine';
export { md5OfMessageAttributes, type MessageAttributeValue } from './md5';
