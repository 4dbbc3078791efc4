/**
 * Working time in Beijing time (UTC+8, no daylight saving): working days with the official
 * public holidays and make-up workdays (调休), working hours within a day, and deadlines.
 *
 * Rules (docs/cases.md, "Deadlines"):
 * - A day is a working day when it is a make-up workday, or else when it is Monday–Friday
 *   and not a holiday.
 * - Working hours are the calendar's intervals of every working day (default 08:30–12:00
 *   and 13:00–17:00, 7.5 hours).
 * - `n workHour` from t: walk forward from t through working intervals until n hours of
 *   working time have passed. A deadline that ends exactly at an interval's end stays there.
 * - `n workDay` from t: the end of the working hours of the n-th working day after the
 *   day of t (the day of t itself never counts, whatever the time).
 * - `minute`, `hour`, `day`: wall-clock time.
 */
import type { CaseState, Duration } from './types';

export const BEIJING_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

export interface WorkCalendar {
	/** day numbers (days since 1970-01-01 in Beijing time) that are holidays */
	holidays: ReadonlySet<number>;
	/** day numbers that are make-up workdays (调休上班) even on a weekend */
	workdays: ReadonlySet<number>;
	/** working intervals of a day, in ms since local midnight, sorted */
	hours: ReadonlyArray<readonly [number, number]>;
}

export interface CalendarSpec {
	/** 'YYYY-MM-DD' or a range 'YYYY-MM-DD..YYYY-MM-DD' */
	holidays?: string[];
	makeupWorkdays?: string[];
	/** e.g. [['08:30', '12:00'], ['13:00', '17:00']] */
	hours?: Array<[string, string]>;
}

/** The day number of a Beijing calendar date 'YYYY-MM-DD'. */
export function dayNumber(date: string): number {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
	if (!m) throw new RangeError(`not a date: ${JSON.stringify(date)}`);
	return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS;
}

/** The Beijing day number of an instant. */
export const dayOf = (ms: number): number => Math.floor((ms + BEIJING_OFFSET_MS) / DAY_MS);

/** The instant a Beijing day starts (local midnight). */
export const dayStart = (day: number): number => day * DAY_MS - BEIJING_OFFSET_MS;

/** 0 = Sunday … 6 = Saturday, in Beijing. */
export const weekday = (day: number): number => (((day + 4) % 7) + 7) % 7;

/** 'YYYY-MM-DD' of an instant in Beijing. */
export function beijingDate(ms: number): string {
	return new Date(dayOf(ms) * DAY_MS).toISOString().slice(0, 10);
}

/** 'YYYY-MM-DD HH:mm' in Beijing, for messages and tests. */
export function beijingTime(ms: number): string {
	return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The instant of a Beijing wall time 'YYYY-MM-DD HH:mm' (or 'YYYY-MM-DDTHH:mm'). */
export function fromBeijing(s: string): number {
	const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
	if (!m) throw new RangeError(`not a Beijing time: ${JSON.stringify(s)}`);
	return dayStart(dayNumber(m[1])) + Number(m[2]) * 3_600_000 + Number(m[3]) * 60_000 + Number(m[4] ?? 0) * 1000;
}

function expand(list: readonly string[] = []): Set<number> {
	const out = new Set<number>();
	for (const item of list) {
		const [a, b] = item.split('..');
		const from = dayNumber(a);
		const to = b ? dayNumber(b) : from;
		for (let d = from; d <= to; d++) out.add(d);
	}
	return out;
}

const hm = (s: string): number => {
	const m = /^(\d{2}):(\d{2})$/.exec(s);
	if (!m) throw new RangeError(`not a time of day: ${JSON.stringify(s)}`);
	return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
};

export function makeCalendar(spec: CalendarSpec): WorkCalendar {
	const hours = (spec.hours ?? DEFAULT_HOURS).map(([a, b]) => [hm(a), hm(b)] as const).sort((x, y) => x[0] - y[0]);
	for (const [a, b] of hours) if (!(b > a)) throw new RangeError('working interval must end after it starts');
	return { holidays: expand(spec.holidays), workdays: expand(spec.makeupWorkdays), hours };
}

export const DEFAULT_HOURS: Array<[string, string]> = [
	['08:30', '12:00'],
	['13:00', '17:00']
];

/**
 * Public holidays and make-up workdays, from the State Council notices
 * (国办发明电〔2024〕12号 for 2025, 国办发明电〔2025〕7号 for 2026).
 */
export const CN_HOLIDAYS: CalendarSpec = {
	holidays: [
		// 2025
		'2025-01-01', // 元旦
		'2025-01-28..2025-02-04', // 春节
		'2025-04-04..2025-04-06', // 清明
		'2025-05-01..2025-05-05', // 劳动节
		'2025-05-31..2025-06-02', // 端午
		'2025-10-01..2025-10-08', // 国庆、中秋
		// 2026
		'2026-01-01..2026-01-03', // 元旦
		'2026-02-15..2026-02-23', // 春节
		'2026-04-04..2026-04-06', // 清明
		'2026-05-01..2026-05-05', // 劳动节
		'2026-06-19..2026-06-21', // 端午
		'2026-09-25..2026-09-27', // 中秋
		'2026-10-01..2026-10-07' // 国庆
	],
	makeupWorkdays: [
		'2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11',
		'2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'
	]
};

export const DEFAULT_CALENDAR: WorkCalendar = makeCalendar(CN_HOLIDAYS);

export function isWorkday(day: number, cal: WorkCalendar = DEFAULT_CALENDAR): boolean {
	if (cal.workdays.has(day)) return true;
	if (cal.holidays.has(day)) return false;
	const w = weekday(day);
	return w >= 1 && w <= 5;
}

const GUARD_DAYS = 3660;

/** t plus `hoursOfWork` hours of working time. */
export function addWorkHours(t: number, hoursOfWork: number, cal: WorkCalendar = DEFAULT_CALENDAR): number {
	let remaining = hoursOfWork * 3_600_000;
	if (remaining <= 0) return t;
	let day = dayOf(t);
	let tod = t - dayStart(day);
	for (let i = 0; i < GUARD_DAYS; i++, day++, tod = 0) {
		if (!isWorkday(day, cal)) continue;
		for (const [s, e] of cal.hours) {
			if (tod >= e) continue;
			const from = Math.max(tod, s);
			const avail = e - from;
			if (remaining <= avail) return dayStart(day) + from + remaining;
			remaining -= avail;
			tod = e;
		}
	}
	throw new RangeError('no working time in ten years: check the calendar');
}

/** The end of the working hours of the n-th working day after the day of t. */
export function addWorkDays(t: number, n: number, cal: WorkCalendar = DEFAULT_CALENDAR): number {
	let day = dayOf(t);
	const end = cal.hours.length ? cal.hours[cal.hours.length - 1][1] : DAY_MS;
	if (n <= 0) {
		for (let i = 0; i < GUARD_DAYS && !isWorkday(day, cal); i++) day++;
		return dayStart(day) + end;
	}
	let count = 0;
	for (let i = 0; i < GUARD_DAYS; i++) {
		day++;
		if (isWorkday(day, cal) && ++count >= n) return dayStart(day) + end;
	}
	throw new RangeError('no working day in ten years: check the calendar');
}

export function addDuration(t: number, d: Duration, cal: WorkCalendar = DEFAULT_CALENDAR): number {
	switch (d.unit) {
		case 'minute':
			return t + d.n * 60_000;
		case 'hour':
			return t + d.n * 3_600_000;
		case 'day':
			return t + d.n * DAY_MS;
		case 'workHour':
			return addWorkHours(t, d.n, cal);
		case 'workDay':
			return addWorkDays(t, d.n, cal);
	}
}

/** Working time (ms) between a and b (0 when b ≤ a). */
export function workingMsBetween(a: number, b: number, cal: WorkCalendar = DEFAULT_CALENDAR): number {
	if (!(b > a)) return 0;
	let sum = 0;
	const last = dayOf(b);
	for (let day = dayOf(a); day <= last; day++) {
		if (!isWorkday(day, cal)) continue;
		const base = dayStart(day);
		for (const [s, e] of cal.hours) {
			const from = Math.max(a, base + s);
			const to = Math.min(b, base + e);
			if (to > from) sum += to - from;
		}
	}
	return sum;
}

// ---- clocks on a case ----

/**
 * - `ok`, `near` (yellow: less than `nearFraction` of the time left), `over` (red): still running;
 * - `met` / `late`: the step was done, before or after its due time;
 * - `none`: no such clock (no deadline, or the case was closed without the step).
 */
export type ClockColour = 'ok' | 'near' | 'over' | 'met' | 'late' | 'none';

export interface Clock {
	state: ClockColour;
	due?: number;
	/** time left (negative when over), in working ms when the span has working time, else wall ms */
	left?: number;
	/** share of the span left, 0…1 (0 when over) */
	fraction?: number;
}

/**
 * How much of [start, due] is left at `now`. Measured in working time when the span holds
 * any (a weekend does not eat into a 2-working-day deadline), else in wall time (a 10-minute
 * response promise at night).
 */
export function running(start: number, due: number, now: number, nearFraction: number, cal: WorkCalendar = DEFAULT_CALENDAR): Clock {
	if (now > due) {
		const overBy = workingMsBetween(due, now, cal);
		return { state: 'over', due, left: -(overBy > 0 ? overBy : now - due), fraction: 0 };
	}
	const totalWork = workingMsBetween(start, due, cal);
	const total = totalWork > 0 ? totalWork : due - start;
	const left = totalWork > 0 ? workingMsBetween(now, due, cal) : due - now;
	const fraction = total > 0 ? Math.max(0, Math.min(1, left / total)) : 0;
	return { state: fraction < nearFraction ? 'near' : 'ok', due, left, fraction };
}

/** The response clock (intake → accept) and the completion clock (acceptance → first resolution) of a case at `now`. */
export function clockState(
	c: CaseState,
	now: number,
	opts: { nearFraction?: number; calendar?: WorkCalendar } = {}
): { response: Clock; completion: Clock } {
	const near = opts.nearFraction ?? 0.2;
	const cal = opts.calendar ?? DEFAULT_CALENDAR;
	const { responseDue, completionDue } = c.deadlines;
	let response: Clock = { state: 'none' };
	if (responseDue !== undefined) {
		if (c.respondedAt !== undefined) response = { state: c.respondedAt <= responseDue ? 'met' : 'late', due: responseDue };
		else if (c.status === 'submitted') response = running(c.submittedAt, responseDue, now, near, cal);
		else response = { state: 'none', due: responseDue };
	}
	let completion: Clock = { state: 'none' };
	if (completionDue !== undefined) {
		if (RUNNING.has(c.status)) completion = running(c.deadlines.completionFrom ?? c.acceptedAt ?? c.submittedAt, completionDue, now, near, cal);
		else if (c.firstResolution) completion = { state: c.firstResolution.onTime ? 'met' : 'late', due: completionDue };
		else completion = { state: 'none', due: completionDue };
	}
	return { response, completion };
}

const RUNNING: ReadonlySet<string> = new Set(['accepted', 'dispatched', 'inProgress', 'reworking']);

/** Overdue: a running clock past its due time (response while submitted; completion while accepted … reworking). */
export function isOverdue(c: CaseState, now: number): boolean {
	const { responseDue, completionDue } = c.deadlines;
	if (c.status === 'submitted') return responseDue !== undefined && now > responseDue;
	return RUNNING.has(c.status) && completionDue !== undefined && now > completionDue;
}
