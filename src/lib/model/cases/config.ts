/** The case board's settings, with the defaults a community starts from. */
import { DEFAULT_CALENDAR } from './calendar';
import { CATEGORY_BY_CODE, days, workHours, type CaseConfig } from './types';

export const DEFAULT_CONFIG: CaseConfig = {
	calendar: DEFAULT_CALENDAR,
	categories: CATEGORY_BY_CODE,
	responseLimit: workHours(2),
	evaluationWindow: days(7),
	defaultRating: 'satisfied',
	nearFraction: 0.2,
	onSiteMetres: 100,
	duplicateMetres: 250
};

export function caseConfig(overrides: Partial<CaseConfig> = {}): CaseConfig {
	return { ...DEFAULT_CONFIG, ...overrides };
}
