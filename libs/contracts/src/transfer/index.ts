export * from './transfer-error';
export * from './chunks';
export * from './archive';
