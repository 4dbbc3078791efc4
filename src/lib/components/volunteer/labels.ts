/** Words for the volunteer model's codes. */
import { t, type MessageKey } from '$lib/i18n/index.svelte';
import type { VolunteerState } from '$lib/model/volunteer';

export function reasonText(code: string | undefined): string {
	const key = `volunteer.reason.${code}` as MessageKey;
	const s = t(key);
	return s === key ? t('volunteer.reason.other', { code: code ?? '' }) : s;
}

/** A service's name: the community's own name for its own services, the app's words for the built-in ones. */
export function serviceName(service: string, state?: Pick<VolunteerState, 'services'>): string {
	const own = state?.services[service]?.name;
	if (own) return own;
	const key = `volunteer.service.${service}` as MessageKey;
	const s = t(key);
	return s === key ? service : s;
}

const CHINA = 8 * 3_600_000;

/** `YYYY-MM-DDTHH:mm` of an instant in Beijing time (for datetime-local inputs; the app shows Beijing time everywhere). */
export function localInput(ms: number): string {
	return new Date(ms + CHINA).toISOString().slice(0, 16);
}

/** The instant of a datetime-local value read as Beijing time; NaN when empty or malformed. */
export function parseInput(s: string): number {
	return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(s) ? Date.parse(`${s}:00Z`) - CHINA : NaN;
}

/** HH:mm in Beijing time. */
export function hhmm(ms: number): string {
	return new Date(ms + CHINA).toISOString().slice(11, 16);
}
