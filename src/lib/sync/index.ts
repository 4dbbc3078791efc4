export * from './session';
export * from './synced-doc';
export * from './workspace';
