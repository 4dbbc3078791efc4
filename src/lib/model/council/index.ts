export * from './rules';
export * from './types';
export * from './reducer';
export * from './agenda';
