/** The case board's pure model (issue 3): see docs/cases.md. */
export * from './types';
export * from './config';
export * from './calendar';
export * from './reducer';
export * from './figures';
export * from './suggest';
export * from './duplicates';
export * from './distance';
export * from './board';
export * from './archive';
export * from './script';
export * from './resident';
export * from './open311';
export * from './units';
