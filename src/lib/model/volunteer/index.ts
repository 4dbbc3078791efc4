/** Volunteer schedules' pure model (issue 6): see docs/volunteer.md. */
export * from './types';
export * from './reducer';
export * from './codes';
export * from './ledger';
export * from './ics';
export * from './follow';
export * from './judged';
