export * from './forecast';
export * from './storage';
export * from './warehouse';
export * from './workflow';
export * from './rejections';
