export * from './secret-redaction';
